// A pthread that runs one closure and can be joined: close() must know its workers are gone.
import Glibc

/// Foundation's `Thread` cannot be joined; this can.
final class JoinableThread: @unchecked Sendable {
    private final class Box {
        let body: @Sendable () -> Void
        init(body: @escaping @Sendable () -> Void) { self.body = body }
    }

    private var handle = pthread_t()
    private var joined = false

    /// Starts the thread; a refused creation (thread limits) is a `LoaderError`.
    /// - Parameter name: names the thread in the error.
    init(name: String, body: @escaping @Sendable () -> Void) throws {
        let box = Unmanaged.passRetained(Box(body: body)).toOpaque()
        let rc = pthread_create(
            &handle, nil,
            { arg in
                let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw LoaderError("cannot start loader thread \(name): \(String(cString: strerror(rc)))")
        }
    }

    /// Waits for the closure to return. Call once, from one thread (the loader's `close`).
    func join() {
        if joined { return }
        joined = true
        pthread_join(handle, nil)
    }
}
