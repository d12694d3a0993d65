// Package testwait lets a package's tests that mostly wait run more of them
// at once than the machine has cores.
package testwait

import (
	"flag"
	"strconv"
)

// Parallel sets how many parallel tests run at once (-test.parallel) to n,
// unless the command line set it; call it from TestMain before m.Run. The
// fleet's and the command's tests spend most of their time waiting on
// processes, timers and the database, so on a 2-core machine 4 of them at
// once finish sooner than the default of one per core.
func Parallel(n int) {
	if !flag.Parsed() {
		flag.Parse()
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(n))
	}
}
