// Package pgtest gives tests a real Postgres: the server FLEET_TEST_POSTGRES
// names (a postgres:// URL of a server where tests may create databases),
// or one started here from Debian's packages (initdb and pg_ctl under
// /usr/lib/postgresql; as the postgres user when the tests run as root),
// on a free loopback port, once per test process. Outside CI a machine
// without Postgres skips the tests that need it; with CI=true it fails them.
package pgtest

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

var pg struct {
	once sync.Once
	url  string // server URL without a database
	err  error
	stop func()
	data string // the data directory of the server started here; "" for FLEET_TEST_POSTGRES's
	n    atomic.Int64
}

// Stop stops the server Database started, if any; call it from TestMain
// once the tests have run.
func Stop() {
	if pg.stop != nil {
		pg.stop()
	}
}

// Database returns the URL of a new, empty database, named with prefix.
func Database(t testing.TB, prefix string) string {
	t.Helper()
	pg.once.Do(func() { pg.url, pg.err = startPostgres() })
	if pg.err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Postgres is required in CI: %v", pg.err)
		}
		t.Skipf("no Postgres (set FLEET_TEST_POSTGRES, or install Debian's postgresql; .ci/run does): %v", pg.err)
	}
	db, err := sql.Open("pgx", pg.url+"/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), pg.n.Add(1))
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return pg.url + "/" + name + "?sslmode=disable"
}

func startPostgres() (string, error) {
	if u := os.Getenv("FLEET_TEST_POSTGRES"); u != "" {
		return u, nil
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		return "", fmt.Errorf("initdb not found under /usr/lib/postgresql")
	}
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "fleet-pg-")
	if err != nil {
		return "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	as := func(name string, args ...string) *exec.Cmd {
		if os.Geteuid() == 0 {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
		return exec.Command(name, args...)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root and no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := as(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, dir)
	if out, err := as(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		return "", fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	pg.data = data
	pg.stop = func() {
		_ = as(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop").Run()
		os.RemoveAll(dir)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d", port), nil
}

// ServerCPU returns the CPU time the server Database started has used so
// far: its postmaster's, that of the sessions and workers that ended (the
// postmaster's children's, counted once it reaps them) and that of those
// still running. ok is false for a server this package did not start
// (FLEET_TEST_POSTGRES) or without Linux's /proc.
func ServerCPU() (cpu time.Duration, ok bool) {
	if pg.data == "" {
		return 0, false
	}
	pidFile, err := os.ReadFile(filepath.Join(pg.data, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	postmaster, _, _ := strings.Cut(string(pidFile), "\n")
	fields, ok := procStat(postmaster)
	if !ok {
		return 0, false
	}
	ticks := fields.utime + fields.stime + fields.cutime + fields.cstime
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range entries {
		if f, ok := procStat(e.Name()); ok && f.ppid == postmaster {
			ticks += f.utime + f.stime
		}
	}
	// /proc counts in USER_HZ, 100 a second on Linux.
	return time.Duration(ticks) * (time.Second / 100), true
}

// procFields are the fields of /proc/<pid>/stat that ServerCPU reads.
type procFields struct {
	ppid                         string
	utime, stime, cutime, cstime int64
}

// procStat reads /proc/<pid>/stat; ok is false when pid is not a process's.
func procStat(pid string) (procFields, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return procFields{}, false
	}
	return parseStat(string(b))
}

// parseStat reads the fields of a /proc/<pid>/stat line; ok is false when
// it is not one.
func parseStat(s string) (procFields, bool) {
	// The command's name, in brackets, may hold spaces: the fields are
	// counted from after it (the state is field 3, the parent's id 4, the
	// times 14 to 17).
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procFields{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return procFields{}, false
	}
	var t [4]int64
	for j := range t {
		var err error
		if t[j], err = strconv.ParseInt(f[11+j], 10, 64); err != nil {
			return procFields{}, false
		}
	}
	return procFields{ppid: f[1], utime: t[0], stime: t[1], cutime: t[2], cstime: t[3]}, true
}
