// libFuzzer target for the GGUF reader: any byte string must either parse or throw a GGUFError,
// never crash, trap or read out of bounds. Built by fuzz/run.sh together with Sources/GGUF/*.swift.

@_cdecl("LLVMFuzzerTestOneInput")
public func ggufFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    do {
        let file = try GGUFFile(bytes: bytes)
        // Touch everything a consumer would: metadata accessors, raw data and decoding.
        for key in file.metadataKeys {
            let v = file.metadata[key]!
            _ = v.string; _ = v.int; _ = v.double; _ = v.stringArray; _ = v.floatArray; _ = v.intArray
        }
        var budget = 1 << 22  // decode at most ~4M elements per input to keep runs fast
        for t in file.tensors {
            let raw = file.rawData(for: t)
            if raw.count != t.byteCount { fatalError("rawData size mismatch for \(t.name)") }
            if t.elementCount <= budget {
                budget -= t.elementCount
                let y = try file.dequantize(t)
                if y.count != t.elementCount { fatalError("dequantize size mismatch for \(t.name)") }
            }
        }
    } catch is GGUFError {
        // expected for malformed input
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
