package main

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An image cut short or damaged past its header (a copy that stopped
// half-way) is a bad row, by line, field and rule, in onboard --check as in
// onboard, which sends nothing for it but location look-ups.
func TestOnboardRefusesImagesCutShort(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	agents := []fleetAgent{
		{suffix: "731002", image: "half.png"},   // line 2
		{suffix: "731003", image: "no-end.png"}, // line 3
		{suffix: "731004", image: "cut.jpg"},    // line 4
	}
	csvPath := writeFleetRun(t, agents)
	dir := filepath.Dir(csvPath)
	good, err := os.ReadFile(filepath.Join(dir, "ktp.png"))
	require.NoError(t, err)
	var photo bytes.Buffer
	require.NoError(t, jpeg.Encode(&photo, image.NewGray(image.Rect(0, 0, 300, 300)), nil))
	for name, data := range map[string][]byte{
		"half.png":   good[:len(good)/2],
		"no-end.png": good[:len(good)-12], // without its IEND chunk
		"cut.jpg":    photo.Bytes()[:photo.Len()*3/4],
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
	const (
		pngRule  = "identity_image: Flip's image rules: is a PNG cut short: it ends before its last chunk (IEND); was the file copied whole?\n"
		jpegRule = "identity_image: Flip's image rules: is a JPEG cut short: it ends before its end-of-image marker; was the file copied whole?\n"
	)

	r := fleetCLI(t, vars, agents, "onboard", "--check", "--csv", csvPath)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stdout, "line 2: "+pngRule)
	assert.Contains(t, r.stdout, "line 3: "+pngRule)
	assert.Contains(t, r.stdout, "line 4: "+jpegRule)
	assert.Contains(t, r.stdout, "3 rows: 0 new, 0 in the run (onboard resumes them), 3 bad")

	r = fleetCLI(t, vars, agents, append([]string{"onboard", "--csv", csvPath}, fast...)...)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "line 2: "+pngRule)
	assert.Contains(t, r.stderr, "line 3: "+pngRule)
	assert.Contains(t, r.stderr, "line 4: "+jpegRule)
	assert.Contains(t, r.stderr, "3 rows: 0 new, 0 resumed, 3 bad")
	onlyLookUps(t, srv)
	assert.Empty(t, srv.Agents(), "no create sent for the rows")
}
