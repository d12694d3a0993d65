package flipkyc

// withClock replaces the client's time source, so retry tests never sleep.
func withClock(c clock) Option {
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
