// The corpus generator draws from the project's seeded generators (SplitMix64, Xoshiro256); users of
// Corpora get them with it.
@_exported import Random
