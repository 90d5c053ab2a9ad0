import NIOCore

/// WebSocket frames of the events route, encoded whole (header and payload in one buffer) so that
/// one buffer is written to every socket that receives the message: a server's frames are not
/// masked (RFC 6455 5.1), so the same bytes serve every connection.
enum EventFrame {
    /// The close codes the events route uses, and what each means to a client.
    enum CloseCode: UInt16, Sendable {
        /// A terminal event (`ready`, `failed`) was sent, or the asset was already terminal.
        case normal = 1000
        /// The server (or its event bus) is shutting down.
        case goingAway = 1001
        /// The asset could not be read.
        case serverError = 1011
        /// The asset token the socket was opened with expired (`ERR_TOKEN_EXPIRED`).
        case tokenExpired = 4401
        /// The asset does not exist (any more).
        case notFound = 4404
        /// The client read too slowly: its unsent messages passed the send limit
        /// (`ERR_SLOW_READER`).
        case slowReader = 4408
    }

    /// A final text frame carrying `text`.
    static func text(_ text: String) -> ByteBuffer {
        let length = text.utf8.count
        var buffer = ByteBufferAllocator().buffer(capacity: length + 10)
        writeHeader(opcode: 0x1, length: length, into: &buffer)
        buffer.writeString(text)
        return buffer
    }

    /// A close frame with `code` and `reason` (cut to the 123 bytes a control frame allows).
    static func close(_ code: CloseCode, reason: String) -> ByteBuffer {
        let reason = Array(reason.utf8.prefix(123))
        var buffer = ByteBufferAllocator().buffer(capacity: reason.count + 4)
        writeHeader(opcode: 0x8, length: reason.count + 2, into: &buffer)
        buffer.writeInteger(code.rawValue)
        buffer.writeBytes(reason)
        return buffer
    }

    /// A control frame (ping, pong, close) with `payload` (at most 125 bytes: control frames
    /// are never longer, RFC 6455 5.5).
    static func control(_ opcode: ControlOpcode, payload: ByteBuffer = ByteBuffer()) -> ByteBuffer {
        let bytes = payload.getBytes(at: payload.readerIndex, length: min(payload.readableBytes, 125)) ?? []
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count + 2)
        writeHeader(opcode: opcode.rawValue, length: bytes.count, into: &buffer)
        buffer.writeBytes(bytes)
        return buffer
    }

    enum ControlOpcode: UInt8 {
        case close = 0x8
        case ping = 0x9
        case pong = 0xA
    }

    private static func writeHeader(opcode: UInt8, length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | opcode)
        switch length {
        case ..<126:
            buffer.writeInteger(UInt8(length))
        case ...0xFFFF:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }
}
