/// The suite's version: the one place it is written. `--version` of all three executables
/// prints it, and `make deb` reads it from this file.
package enum SuiteVersion {
    package static let current = "0.9.0"
}
