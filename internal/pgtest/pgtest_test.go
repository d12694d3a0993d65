package pgtest

import "testing"

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       procFields
		ok         bool
	}{
		{"a session", "4242 (postgres) S 29646 29646 29646 0 -1 4194560 305 0 0 0 17 4 0 0 20 0 1 0 6155 224735232 2921",
			procFields{ppid: "29646", utime: 17, stime: 4}, true},
		{"the postmaster, its reaped children counted", "29646 (postgres) S 1 29645 29645 0 -1 4194560 5147 212840 0 0 3 5 4127 1020 20 0 1 0 6100 224001024 5631",
			procFields{ppid: "1", utime: 3, stime: 5, cutime: 4127, cstime: 1020}, true},
		{"a name with spaces and brackets", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 11 12 13 14 20 0 1 0 1 1 1",
			procFields{ppid: "1", utime: 11, stime: 12, cutime: 13, cstime: 14}, true},
		{"cut short", "7 (x) R 1 7 7 0 -1 0 0 0", procFields{}, false},
		{"no name", "7 x R 1 7 7 0 -1 0 0 0 0 0 11 12 13 14 20", procFields{}, false},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 11 zz 13 14 20 0 1", procFields{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseStat(tc.line)
			if ok != tc.ok || got != tc.want {
				t.Errorf("parseStat = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestServerCPU(t *testing.T) {
	Database(t, "pgtest") // starts the server, or skips outside CI without one
	t.Cleanup(Stop)
	cpu, ok := ServerCPU()
	if pg.data == "" {
		if ok {
			t.Errorf("ServerCPU = %v, true for a server the tests did not start", cpu)
		}
		return
	}
	if !ok || cpu <= 0 {
		t.Errorf("ServerCPU = %v, %v; want the server's CPU time so far (it created a database)", cpu, ok)
	}
}
