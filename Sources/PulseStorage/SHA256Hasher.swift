import Crypto
import PulseSupport
import NIOCore

/// SHA-256 over ByteBuffers without copying them into arrays.
struct SHA256Hasher {
    private var hash = SHA256()

    mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
    }

    func finalizeHex() -> String {
        Hex.encode(hash.finalize())
    }
}
