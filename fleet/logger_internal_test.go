package fleet

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// River's lines pass through the fleet's logger from its warnings up; its
// informational lines only when the logger is enabled for debugging (the
// command's -v).
func TestRiverLoggerLevels(t *testing.T) {
	for _, c := range []struct {
		level slog.Level
		want  []string // the lines written, by message
	}{
		{slog.LevelWarn, []string{"river warn", "river error"}},
		{slog.LevelInfo, []string{"river warn", "river error"}},
		{slog.LevelDebug, []string{"river debug", "river info", "river warn", "river error"}},
	} {
		var b bytes.Buffer
		log := riverLogger(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: c.level})))
		log.Debug("river debug")
		log.Info("river info")
		log.Warn("river warn")
		log.Error("river error")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if _, msg, ok := strings.Cut(line, `msg="`); ok {
				got = append(got, strings.TrimSuffix(msg, `"`))
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("logger at %s: River's lines %q written, want %q", c.level, got, c.want)
		}
	}
}
