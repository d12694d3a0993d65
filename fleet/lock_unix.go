//go:build unix

package fleet

import (
	"fmt"
	"os"
	"syscall"
)

// openLock opens the file at path to lock it: the SQLite database itself,
// so that every name of the file (a symlink, another spelling, a hard
// link) finds the same lock. The descriptor must stay open until the
// database is closed: closing any descriptor of a SQLite file drops the
// fcntl locks the process holds on it (SQLite's own).
func openLock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR, 0)
}

// lock takes an exclusive flock on file, which the operating system
// releases when the process ends, however it ends. flock locks are
// independent of the fcntl locks SQLite takes on the same file.
func lock(file *os.File) (unlock func(), err error) {
	if err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, fmt.Errorf("another process is working this SQLite run (%s is locked); use Postgres (--db postgres://…) to share a run", file.Name())
	}
	return func() { _ = syscall.Flock(int(file.Fd()), syscall.LOCK_UN) }, nil
}
