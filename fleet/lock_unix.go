//go:build unix

package fleet

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on path that the operating system
// releases when the process ends, however it ends.
func lockFile(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another process is working this SQLite run (%s is locked); use Postgres (--db postgres://…) to share a run", path)
	}
	return func() { f.Close() }, nil
}
