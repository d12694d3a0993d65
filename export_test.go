package flipkyc

// withClock replaces the client's time source, so retry tests never sleep.
func withClock(c clock) Option {
	return func(cfg *config) error {
		cfg.clock = c
		return nil
	}
}
