import Testing

/// Process-level tests of fault tolerance: real `pulse-video` processes on PostgreSQL,
/// moto_server and ffmpeg. They run one at a time: each one's timing (a kill mid-encode, a lease
/// running out) should not depend on what the others load the two cores with.
@Suite(.serialized)
struct IntegrationTests {}
