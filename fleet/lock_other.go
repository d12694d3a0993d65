//go:build !unix

package fleet

// lockFile does nothing where flock is not available: run one process per
// SQLite run there.
func lockFile(string) (func(), error) { return func() {}, nil }
