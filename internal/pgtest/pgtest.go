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
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

var pg struct {
	once sync.Once
	url  string // server URL without a database
	err  error
	stop func()
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
	pg.stop = func() {
		_ = as(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop").Run()
		os.RemoveAll(dir)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d", port), nil
}
