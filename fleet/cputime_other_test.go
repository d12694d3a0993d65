//go:build !unix

package fleet_test

import "time"

// processCPU is not measured on this system: 0.
func processCPU() time.Duration { return 0 }
