import ArgumentParser
import Foundation

@main
struct Hyperlab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hyperlab",
        abstract: "Causal experiments on self-fulfilling misalignment in language models, on one CPU.",
        subcommands: [Models.self, Tokenize.self, Logits.self, Score.self, Generate.self, Battery.self, Classify.self,
                      Eval.self, CorpusCommand.self, PostTrainData.self, Train.self, RunCommand.self, DemoCommand.self,
                      StatusCommand.self, Serve.self, Bench.self])
}

/// Writes one JSON value to standard output (sorted keys, one line).
func printJSON<T: Encodable>(_ value: T) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try enc.encode(value))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// Progress and diagnostics go to standard error, so standard output stays machine-readable.
func note(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

/// Turns library errors into clean command-line failures.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
