import Foundation

/// What a stage executor is handed.
public struct StageJob: Sendable {
    public init(stage: StageSpec, inputs: [String: Artifact], workDirectory: URL, resuming: Bool, design: ExperimentDesign, runDirectory: URL) {
        self.stage = stage; self.inputs = inputs; self.workDirectory = workDirectory; self.resuming = resuming
        self.design = design; self.runDirectory = runDirectory
    }
    /// The stage.
    public var stage: StageSpec
    /// Finished upstream artifacts by role (the stage's `inputs`).
    public var inputs: [String: Artifact]
    /// Where to write outputs; it survives a crash, and `resuming` says whether it held earlier work.
    public var workDirectory: URL
    public var resuming: Bool
    /// The design (for paths and shared settings).
    public var design: ExperimentDesign
    /// The run's folder (for logs).
    public var runDirectory: URL

    /// The artifact of a role, or `PipelineError.missingInput`.
    public func input(_ role: String) throws -> Artifact {
        guard let a = inputs[role] else { throw PipelineError.missingInput(stage: stage.id, role: role) }
        return a
    }
}

/// Lets an executor report progress within its stage.
public struct StageReporter: Sendable {
    let sink: @Sendable (Double, String) -> Void
    /// A reporter that forwards (fraction done in [0, 1], short message).
    public init(_ sink: @escaping @Sendable (Double, String) -> Void) { self.sink = sink }
    /// Reports progress.
    public func report(_ fraction: Double, _ message: String = "") { sink(min(1, max(0, fraction)), message) }
    /// A reporter that drops everything.
    public static let silent = StageReporter { _, _ in }
}

/// Runs one kind of stage. Executors are stateless between stages; everything they need is in the job.
public protocol StageExecutor: Sendable {
    /// A version string mixed into cache keys: bump it when the executor's output would change.
    var version: String { get }
    /// Runs the stage and writes its outputs into `job.workDirectory`.
    func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput
}

/// An executor built from a closure (tests, small adapters).
public struct ClosureExecutor: StageExecutor {
    public let version: String
    let body: @Sendable (StageJob, StageReporter) async throws -> StageOutput
    public init(version: String, _ body: @escaping @Sendable (StageJob, StageReporter) async throws -> StageOutput) {
        self.version = version; self.body = body
    }
    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput { try await body(job, reporter) }
}

/// A stage kind whose implementation lives in another target that is not wired in yet: it fails with a
/// message naming what to fill in.
public struct UnwiredExecutor: StageExecutor {
    public let kind: StageKind
    public let hint: String
    public var version: String { "unwired" }
    public init(kind: StageKind, hint: String) { self.kind = kind; self.hint = hint }
    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        throw PipelineError.noExecutor(kind: kind, hint: hint)
    }
}

/// The executors of a run, one per stage kind.
public struct ExecutorSet: Sendable {
    public var executors: [StageKind: any StageExecutor]
    public init(_ executors: [StageKind: any StageExecutor] = [:]) { self.executors = executors }
    public subscript(kind: StageKind) -> (any StageExecutor)? {
        get { executors[kind] }
        set { executors[kind] = newValue }
    }
}
