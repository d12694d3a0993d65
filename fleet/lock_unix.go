//go:build unix

package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
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

// migrationTurn waits for this process's turn to migrate the SQLite run at
// path, among the processes opening a run in the same directory at once
// (two commands started on one new CSV): an exclusive flock on the
// directory, which unlock releases, as does the process's end. The run's
// file cannot carry it: a process working the run holds the file's lock
// (lock) as long as it runs, and others open the run meanwhile (status,
// repair). Where a directory cannot be locked, the turn is not taken.
func migrationTurn(ctx context.Context, path string) (unlock func(), err error) {
	dir := filepath.Dir(path)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		dir = filepath.Dir(real) // a link to a run elsewhere takes that directory's turn
	} else if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	d, err := os.Open(dir)
	if err != nil {
		return func() {}, nil
	}
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
				d.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			d.Close()
			return func() {}, nil
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			d.Close()
			return nil, err
		}
	}
}
