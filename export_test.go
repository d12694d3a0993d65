package flipkyc

import "github.com/flipkyc/flipkyc/internal/backoff"

// withClock replaces the client's time source, so retry tests never sleep.
func withClock(c backoff.Clock) Option {
	return func(cfg *config) error {
		cfg.clock = c
		return nil
	}
}

// withMaxImageBytes lifts the image size limit, so benchmarks can show that
// memory does not grow with the image.
func withMaxImageBytes(n int64) Option {
	return func(cfg *config) error {
		cfg.maxImageBytes = n
		return nil
	}
}
