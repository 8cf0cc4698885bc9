/// An error reading, validating, encoding or writing a GGUF file.
///
/// `kind` classifies the problem for code; `description` is a sentence for people that names
/// what is wrong and where (byte offset, metadata key or tensor name when known).
public struct GGUFError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The class of problem.
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be opened, mapped, written or renamed.
        case io
        /// The first four bytes are not "GGUF".
        case badMagic
        /// The format version is not 2 or 3.
        case unsupportedVersion
        /// The file ends in the middle of a structure.
        case truncated
        /// A tensor, key/value or array count cannot fit in the bytes left in the file.
        case absurdCount
        /// A string length runs past the end of the file.
        case badString
        /// A metadata value type tag is unknown, or arrays nest too deeply.
        case unknownValueType
        /// A tensor type tag is unknown.
        case unknownTensorType
        /// A tensor has zero or too many dimensions, a zero/negative dimension, or an overflowing size.
        case badShape
        /// A tensor's row length is not a multiple of its type's block size.
        case notBlockMultiple
        /// A tensor offset or `general.alignment` is not properly aligned / not a power of two.
        case misaligned
        /// Tensor data runs past the end of the file.
        case dataOutOfBounds
        /// Two tensors' data ranges overlap.
        case overlappingTensors
        /// Two tensors share one name.
        case duplicateTensor
        /// Two metadata entries share one key.
        case duplicateKey
        /// A metadata value has the wrong type or an invalid value (e.g. `general.alignment`).
        case badMetadata
        /// A codec cannot encode or decode this type.
        case unsupportedType
        /// A caller passed inconsistent arguments (e.g. a value count that does not match a shape).
        case invalidArgument
    }

    /// The class of problem.
    public let kind: Kind
    /// What is wrong, in words.
    public let message: String
    /// The byte offset in the file where the problem was found, when known.
    public let offset: Int?

    /// Creates an error of `kind` with a message, optionally located at a byte `offset`.
    public init(_ kind: Kind, _ message: String, offset: Int? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "GGUF \(kind.rawValue) error at byte \(offset): \(message)" }
        return "GGUF \(kind.rawValue) error: \(message)"
    }
}
