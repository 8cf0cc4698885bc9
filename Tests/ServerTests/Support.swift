import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Server
import ServiceLifecycle
import Transformer

/// The small real model every server test uses (loaded once).
enum TestModel {
    static let path = "/root/.cache/hyperlab/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let name = "smol"
    nonisolated(unsafe) static var cached: Model?
    static let lock = NSLock()
    static func load() throws -> Model {
        lock.lock(); defer { lock.unlock() }
        if let m = cached { return m }
        let m = try Model(path: path, contextLimit: 1024)
        cached = m
        return m
    }
}

/// A server running in-process on a free loopback port.
final class RunningServer: @unchecked Sendable {
    let server: HyperlabServer
    let group: ServiceGroup
    let task: Task<Void, Error>
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    private init(server: HyperlabServer, group: ServiceGroup, task: Task<Void, Error>, port: Int) {
        self.server = server; self.group = group; self.task = task; self.port = port
    }

    static func start(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        var config = ServerConfiguration(port: 0)
        configure(&config)
        var logger = Logger(label: "test.serve")
        logger.logLevel = .warning
        let server = try HyperlabServer(models: [(TestModel.name, try TestModel.load())], configuration: config, logger: logger)
        let (ports, cont) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { port in cont.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task { try await group.run() }
        var it = ports.makeAsyncIterator()
        guard let port = await it.next() else { throw TestError("server did not start") }
        return RunningServer(server: server, group: group, task: task, port: port)
    }

    /// Graceful shutdown; waits until the service group has ended.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs blocking work on a thread of its own (never on the cooperative pool, which the server needs).
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        let t = Thread { c.resume(with: Result { try work() }) }
        t.stackSize = 4 << 20
        t.start()
    }
}

/// A response read off the wire.
struct RawResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: body) as? [String: Any] else { throw TestError("not a JSON object: \(text)") }
        return o
    }
}

/// A tiny blocking HTTP/1.1 client over a socket: full control of what is sent and when.
struct RawClient {
    let port: Int
    var timeout: Double = 120

    func connect() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { close(fd); throw TestError("connect to port \(port) failed (errno \(errno))") }
        return fd
    }

    static func send(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { (p: UnsafeRawBufferPointer) in
            var off = 0
            while off < p.count {
                let n = Glibc.send(fd, p.baseAddress! + off, p.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { throw TestError("send failed (errno \(errno))") }
                off += n
            }
        }
    }

    static func readAll(_ fd: Int32) -> Data {
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    static func head(method: String, path: String, headers: [String: String], length: Int?) -> Data {
        var s = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { s += "\(k): \(v)\r\n" }
        if let length { s += "Content-Type: application/json\r\nContent-Length: \(length)\r\n" }
        s += "\r\n"
        return Data(s.utf8)
    }

    /// Sends a request and reads the whole response (the server closes the connection).
    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) throws -> RawResponse {
        let fd = try connect()
        defer { close(fd) }
        var msg = RawClient.head(method: method, path: path, headers: headers, length: body?.count ?? (method == "POST" ? 0 : nil))
        if let body { msg.append(body) }
        try RawClient.send(fd, msg)
        return try RawClient.parse(RawClient.readAll(fd))
    }

    func post(_ path: String, json: Any, headers: [String: String] = [:]) throws -> RawResponse {
        try request("POST", path, body: try JSONSerialization.data(withJSONObject: json), headers: headers)
    }

    static func parse(_ data: Data) throws -> RawResponse {
        let bytes = [UInt8](data)
        guard let split = bytes.indices.first(where: { i in
            i + 3 < bytes.count && bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10
        }) else { throw TestError("no complete response head in \(bytes.count) bytes: \(String(decoding: bytes, as: UTF8.self))") }
        let head = String(decoding: bytes[0..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = head[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestError("bad status line \(head[0])") }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            if let c = line.firstIndex(of: ":") {
                headers[line[..<c].lowercased()] = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
            }
        }
        var body = Array(bytes[(split + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var out: [UInt8] = []
            var i = 0
            while i < body.count {
                guard let eol = body[i...].indices.first(where: { $0 + 1 < body.count && body[$0] == 13 && body[$0 + 1] == 10 }) else { break }
                let sizeText = String(decoding: body[i..<eol], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { break }
                if size == 0 { break }
                out += body[(eol + 2)..<min(body.count, eol + 2 + size)]
                i = eol + 2 + size + 2
            }
            body = out
        }
        return RawResponse(status: status, headers: headers, body: Data(body))
    }
}

/// The `data:` payloads of a server-sent-events body.
func sseEvents(_ text: String) -> [String] {
    text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
}

/// Runs a command, returning its exit status and output.
func runProcess(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes before waiting, so a chatty child never blocks on a full pipe.
    let errBox = DataBox()
    let t = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    t.start()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !errBox.done { usleep(1000) }
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errBox.data, as: UTF8.self))
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _data = Data()
    private var _done = false
    var data: Data {
        get { lock.lock(); defer { lock.unlock() }; return _data }
        set { lock.lock(); _data = newValue; _done = true; lock.unlock() }
    }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return _done }
}

/// Whether a Python module imports.
func pythonHas(_ module: String) -> Bool {
    (try? runProcess(["python3", "-c", "import \(module)"]).status) == 0
}
