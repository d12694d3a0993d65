//go:build !unix

package fleet

import (
	"context"
	"os"
)

// openLock opens nothing where flock is not available: run one process
// per SQLite run there.
func openLock(string) (*os.File, error) { return nil, nil }

// lock does nothing where flock is not available.
func lock(*os.File) (func(), error) { return func() {}, nil }

// migrationTurn takes no turn where flock is not available.
func migrationTurn(context.Context, string) (func(), error) { return func() {}, nil }
