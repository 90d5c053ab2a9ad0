import Testing

/// Makes a missing PostgreSQL visible in the test report instead of silently running SQLite only.
@Suite struct PostgresConfigurationTests {
    @Test(
        "PostgreSQL tests are configured",
        .enabled(
            if: TestServices.postgresURL != nil || TestServices.required,
            "PULSE_TEST_POSTGRES_URL unset: PostgreSQL cases skipped"
        )
    )
    func configured() throws {
        if TestServices.postgresURL == nil { throw MissingServiceError() }
    }
}
