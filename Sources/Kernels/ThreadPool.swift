import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of persistent worker threads for data-parallel kernels.
///
/// `threadCount - 1` workers are created once and wait for jobs; the calling thread always takes part
/// as participant 0, so a pool of one thread runs everything inline. Dispatching a job costs a few
/// microseconds: workers spin briefly on an atomic generation counter before sleeping on a condition
/// variable, and the caller spins (yielding) until every participant has finished.
///
/// Only one job runs at a time. A call made while the pool is busy (from inside a job body, or from
/// another thread during a job) runs serially on its calling thread instead of waiting, so nested
/// parallel calls are safe and never deadlock.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool. Its size is the `HYPERLAB_THREADS` environment variable when set to a
    /// positive integer, else the number of active processors.
    public static let shared: ThreadPool = {
        if let s = getenv("HYPERLAB_THREADS"), let n = Int(String(cString: s)), n > 0 {
            return ThreadPool(threads: n)
        }
        return ThreadPool(threads: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }()

    /// Number of participants in a parallel job (workers plus the calling thread).
    public let threadCount: Int

    let state: PoolState

    /// Creates a pool with `threads` participants (at least 1); `threads - 1` worker threads are started.
    public init(threads: Int) {
        threadCount = max(1, threads)
        state = PoolState(participants: threadCount)
        for t in 1..<threadCount {
            let st = state
            var attr = pthread_attr_t()
            pthread_attr_init(&attr)
            pthread_attr_setstacksize(&attr, 1 << 20)
            let box = Unmanaged.passRetained(WorkerStart(state: st, index: t)).toOpaque()
            var tid = pthread_t()
            #if canImport(Darwin)
            let rc = pthread_create(&tid, &attr, { p in
                let s = Unmanaged<WorkerStart>.fromOpaque(p).takeRetainedValue()
                s.state.workerLoop(index: s.index)
                return nil
            }, box)
            #else
            let rc = pthread_create(&tid, &attr, { p in
                let s = Unmanaged<WorkerStart>.fromOpaque(p!).takeRetainedValue()
                s.state.workerLoop(index: s.index)
                return nil
            }, box)
            #endif
            pthread_attr_destroy(&attr)
            precondition(rc == 0, "ThreadPool: pthread_create failed with code \(rc)")
            state.threads.append(tid)
        }
    }

    deinit {
        state.stopAndJoin()
    }

    /// Runs `body` with a parallel context: while `body` runs the pool belongs to this caller, and the
    /// context can launch several parallel phases (`run`) without re-acquiring the pool. When the pool is
    /// busy (a nested call) or has one thread, the context is serial: one participant, private scratch.
    func withParallel<R>(_ body: (ParallelContext) -> R) -> R {
        if state.tryAcquire() {
            defer { state.release() }
            return body(ParallelContext(state: threadCount > 1 ? state : nil, participants: threadCount,
                                        shared: state.sharedScratch, serialScratch: state.scratch[0]))
        }
        // Busy (nested call or another caller): run serially with this thread's private arenas.
        return body(serialContext())
    }

    /// Runs `body(t, participants, scratch)` once on every participant; see `withParallel`.
    func runPerThread(_ body: (_ thread: Int, _ participants: Int, _ scratch: ScratchArena) -> Void) {
        withParallel { ctx in
            ctx.run { t, arena in body(t, ctx.participants, arena) }
        }
    }

    /// Calls `body(i)` for every `i` in `0..<count`, spread dynamically over the participants.
    /// Returns when all calls have finished. Nested calls run serially.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threadCount == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withParallel { ctx in
            if ctx.state == nil {
                // Serial (nested or busy): a plain loop, so kernels called from `body` may reuse
                // this thread's serial context freely.
                for i in 0..<count { body(i) }
                return
            }
            ctx.run { _, _ in
                while true {
                    let i = ctx.next()
                    if i >= count { break }
                    body(i)
                }
            }
        }
    }

    /// Splits `0..<count` into at most `threadCount` contiguous chunks of near-equal size and calls
    /// `body` once per non-empty chunk, in parallel. Nested calls run serially (one chunk).
    public func parallelForRanges(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        runPerThread { t, p, _ in
            let r = ThreadPool.chunk(count, part: t, of: p)
            if !r.isEmpty { body(r) }
        }
    }

    /// The `part`-th of `parts` contiguous near-equal chunks of `0..<count`.
    @inline(__always)
    static func chunk(_ count: Int, part: Int, of parts: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let lo = part * base + min(part, extra)
        return lo..<(lo + base + (part < extra ? 1 : 0))
    }
}

/// A claim on a pool for one kernel call (or a serial stand-in); see `ThreadPool.withParallel`.
struct ParallelContext {
    let state: PoolState?
    /// Number of participants each `run` uses.
    let participants: Int
    /// Scratch shared by all participants, owned by the caller for the duration of the context.
    let shared: ScratchArena
    let serialScratch: ScratchArena

    init(state: PoolState?, participants: Int, shared: ScratchArena, serialScratch: ScratchArena) {
        self.state = state
        self.participants = state == nil ? 1 : participants
        self.shared = shared
        self.serialScratch = serialScratch
    }

    /// Runs `body(t, scratch)` on every participant t and waits for all; resets the `next()` counter first.
    func run(_ body: (_ thread: Int, _ scratch: ScratchArena) -> Void) {
        guard let st = state else {
            localCounter.pointee = 0
            body(0, serialScratch)
            return
        }
        st.counter.store(0, ordering: .relaxed)
        withoutActuallyEscaping(body) { esc in
            st.job = { t in esc(t, st.scratch[t]) }
            st.launch()
            esc(0, st.scratch[0])
            st.waitWorkers()
            st.job = nil
        }
    }

    /// The next index of the current `run`'s shared dynamic counter (0, 1, 2, ... across participants).
    @inline(__always) func next() -> Int {
        if let st = state { return st.counter.wrappingAdd(1, ordering: .relaxed).oldValue }
        let v = localCounter.pointee
        localCounter.pointee = v + 1
        return v
    }

    var localCounter: UnsafeMutablePointer<Int> { serialScratch.counter }
}

final class WorkerStart {
    let state: PoolState
    let index: Int
    init(state: PoolState, index: Int) { self.state = state; self.index = index }
}

/// Shared state between a pool and its workers (kept separate so workers do not retain the pool).
final class PoolState: @unchecked Sendable {
    let participants: Int
    let generation = Atomic<Int>(0)
    let remaining = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    let counter = Atomic<Int>(0)
    var job: ((Int) -> Void)?
    var threads: [pthread_t] = []
    let scratch: [ScratchArena]
    let sharedScratch = ScratchArena()
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let cond: UnsafeMutablePointer<pthread_cond_t>
    /// Spin iterations a worker waits on the generation counter before sleeping.
    static let spinIterations = 200_000

    init(participants: Int) {
        self.participants = participants
        scratch = (0..<participants).map { _ in ScratchArena() }
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    @inline(__always) func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    @inline(__always) func release() {
        busy.store(false, ordering: .releasing)
    }

    /// Publishes `job` to the workers.
    func launch() {
        remaining.store(participants - 1, ordering: .relaxed)
        pthread_mutex_lock(mutex)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until every worker has finished the current job.
    func waitWorkers() {
        var spins = 0
        while remaining.load(ordering: .acquiring) != 0 {
            spins += 1
            if spins > 2000 { sched_yield() }
        }
    }

    func workerLoop(index: Int) {
        var seen = 0 // the generation at pool creation; a late-starting worker must still run job 1
        while true {
            var spins = 0
            var g = generation.load(ordering: .acquiring)
            while g == seen && spins < PoolState.spinIterations {
                spins += 1
                if spins & 1023 == 0 { sched_yield() }
                g = generation.load(ordering: .acquiring)
            }
            if g == seen {
                pthread_mutex_lock(mutex)
                while true {
                    g = generation.load(ordering: .sequentiallyConsistent)
                    if g != seen || stopping.load(ordering: .relaxed) { break }
                    pthread_cond_wait(cond, mutex)
                }
                pthread_mutex_unlock(mutex)
            }
            if stopping.load(ordering: .acquiring) { return }
            seen = g
            if let job = job { job(index) }
            remaining.wrappingSubtract(1, ordering: .releasing)
        }
    }

    func stopAndJoin() {
        pthread_mutex_lock(mutex)
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
    }
}

/// Per-thread reusable scratch memory: numbered slots of 64-byte-aligned floats that grow on demand.
final class ScratchArena: @unchecked Sendable {
    private var slots: [(UnsafeMutableRawPointer, Int)] = []
    /// A counter for serial contexts.
    let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)

    init() { counter.pointee = 0 }

    deinit {
        counter.deallocate()
        for (p, _) in slots { p.deallocate() }
    }

    /// A buffer of at least `count` floats for slot `slot`; contents are unspecified.
    func floats(_ slot: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        bytes(slot, count * 4).assumingMemoryBound(to: Float.self)
    }

    /// A buffer of at least `count` bytes for slot `slot`; contents are unspecified.
    func bytes(_ slot: Int, _ count: Int) -> UnsafeMutableRawPointer {
        while slots.count <= slot { slots.append((UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64), 64)) }
        if slots[slot].1 < count {
            slots[slot].0.deallocate()
            let size = max(count, slots[slot].1 * 2)
            slots[slot] = (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size)
        }
        return slots[slot].0
    }
}
