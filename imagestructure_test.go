package flipkyc

import (
	"bytes"
	"context"
	"encoding/binary"
	"go/build"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brokenImages returns PNGs and JPEGs of the smallest accepted size, whole
// and broken past their header in each way the structure walk finds, with
// the rule each breaks ("" for a whole one).
func brokenImages(t testing.TB) []struct {
	name, rule string
	data       []byte
} {
	t.Helper()
	p := pngImage(t, MinImageSide, MinImageSide)
	idat := bytes.Index(p, []byte("IDAT")) - 4
	idatLen := int(binary.BigEndian.Uint32(p[idat:]))
	iend := len(p) - 12
	require.Equal(t, "IEND", string(p[iend+4:iend+8]))
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 0x40
		return b
	}
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	// A JFIF segment, as cameras and most encoders write (Go's does not):
	// with it, the header check stops at the frame header (SOF), and what
	// follows it is the walk's to check.
	jfif := []byte{0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	j := join(jpegImage(t, MinImageSide, MinImageSide)[:2], jfif, jpegImage(t, MinImageSide, MinImageSide)[2:])
	sos := bytes.Index(j, []byte{0xff, 0xda})
	dht := bytes.Index(j, []byte{0xff, 0xc4})
	require.True(t, 0 < dht && dht < sos, "the encoder writes DHT before SOS")
	scanData := sos + 2 + int(binary.BigEndian.Uint16(j[sos+2:])) // past the scan's header
	badLength := bytes.Clone(j)
	binary.BigEndian.PutUint16(badLength[dht+2:], 1)

	return []struct {
		name, rule string
		data       []byte
	}{
		{"png whole", "", p},
		{"png with bytes after IEND", "", join(p, make([]byte, 100))},
		{"png cut in a chunk's length and type", rulePNGCutShort, p[:idat+6]},
		{"png cut mid-IDAT", rulePNGCutShort, p[:idat+8+idatLen/2]},
		{"png cut before IDAT's CRC", rulePNGCutShort, p[:idat+8+idatLen+2]},
		{"png without IEND", rulePNGCutShort, p[:iend]},
		{"png cut in IEND's CRC", rulePNGCutShort, p[:len(p)-2]},
		{"png with a damaged IDAT byte", rulePNGChecksum, flip(p, idat+8+idatLen/2)},
		{"png with a damaged CRC", rulePNGChecksum, flip(p, len(p)-1)},
		{"png with a chunk type not of letters", rulePNGChunk, join(p[:idat+4], []byte("ID4T"), p[idat+8:])},
		{"png without IDAT", rulePNGNoData, join(p[:idat], p[iend:])},
		{"jpeg whole", "", j},
		{"jpeg with bytes after EOI", "", join(j, make([]byte, 100))},
		{"jpeg without EOI", ruleJPEGCutShort, j[:len(j)-2]},
		{"jpeg cut mid-scan", ruleJPEGCutShort, j[:(sos+len(j))/2]},
		{"jpeg cut in a segment before the scan", ruleJPEGCutShort, j[:dht+10]},
		{"jpeg cut in the scan header", ruleJPEGCutShort, j[:sos+5]},
		{"jpeg with a segment length under 2", ruleJPEGSegment, badLength},
		{"jpeg with bytes between segments", "", join(j[:dht], []byte{0x00, 0x12, 0xff, 0x00}, j[dht:])}, // skipped, as decoders do
		{"jpeg with a restart marker between segments", "", join(j[:dht], []byte{0xff, 0xd3}, j[dht:])},
		{"jpeg starting again inside", ruleJPEGSegment, join(j[:dht], []byte{0xff, 0xd8}, j[dht:])},
		{"jpeg ending before its scan", ruleJPEGNoData, join(j[:sos], []byte{0xff, 0xd9})},
		{"jpeg with an empty scan", ruleJPEGEmptyScan, join(j[:scanData], []byte{0xff, 0xd9})},
	}
}

// An image cut short or damaged past its header breaks a rule of its own,
// found before anything is sent, whether it is in memory or a file; a
// whole one, with or without bytes after its end, passes; the standard
// library's decoders, which read every pixel, agree on each.
func TestImageStructureRules(t *testing.T) {
	c, hits := noNetworkClient(t)
	dir := t.TempDir()
	for i, tt := range brokenImages(t) {
		t.Run(tt.name, func(t *testing.T) {
			name := filepath.Join(dir, strings.Repeat("x", i+1))
			require.NoError(t, os.WriteFile(name, tt.data, 0o600))
			file, err := os.Open(name)
			require.NoError(t, err)
			defer file.Close()
			// The standard library's full decoder agrees.
			_, _, decodeErr := image.Decode(bytes.NewReader(tt.data))
			assert.Equal(t, tt.rule == "", decodeErr == nil, "decoding: %v", decodeErr)
			for _, img := range []Image{{"a", bytes.NewReader(tt.data)}, {"a", file}} {
				err := img.Validate()
				if tt.rule == "" {
					require.NoError(t, err)
					continue
				}
				var ve *ValidationError
				require.ErrorAs(t, err, &ve)
				require.Len(t, ve.Fields, 1)
				assert.Equal(t, FieldError{Field: "image", Rule: tt.rule}, ve.Fields[0])
				pos, err := file.Seek(0, 1)
				require.NoError(t, err)
				assert.Zero(t, pos, "rewound")
				_, err = c.UploadIdentityImage(context.Background(), 1, IdentityKTP, img)
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tt.rule, ve.Fields[0].Rule)
			}
		})
	}
	assert.Zero(t, hits.Load())
}

// The structure walk agrees with the standard library's full decoders on
// every PNG and JPEG the Go distribution tests them with: progressive,
// restart markers, CMYK, interlaced and paletted PNGs, and their broken
// files (a bad CRC, a missing IEND, a cut). The walk checks structure, not
// pixels: a damaged compressed stream under a matching CRC passes it.
func TestImageStructureAgreesWithTheDecoders(t *testing.T) {
	var files []string
	for _, dir := range []string{"image/testdata", "image/png/testdata", "image/png/testdata/pngsuite"} {
		names, _ := filepath.Glob(filepath.Join(build.Default.GOROOT, "src", dir, "*"))
		files = append(files, names...)
	}
	checked := 0
	for _, name := range files {
		kind := map[string]string{".png": "image/png", ".jpeg": "image/jpeg", ".jpg": "image/jpeg"}[filepath.Ext(name)]
		if kind == "" {
			continue
		}
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		var decodeErr error
		if kind == "image/png" {
			if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
				continue
			}
			_, decodeErr = png.Decode(bytes.NewReader(data))
		} else {
			if !bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}) {
				continue
			}
			_, decodeErr = jpeg.Decode(bytes.NewReader(data))
		}
		rule, err := imageStructure(kind, bytes.NewReader(data))
		require.NoError(t, err)
		checked++
		switch {
		case decodeErr == nil:
			assert.Empty(t, rule, "%s decodes, but the walk refuses it", filepath.Base(name))
		case !strings.Contains(decodeErr.Error(), "zlib"): // inside the compressed data: pixels
			assert.NotEmpty(t, rule, "%s fails to decode (%v), but the walk passes it", filepath.Base(name), decodeErr)
		}
	}
	if checked == 0 {
		t.Skip("the Go distribution's image test files are not here")
	}
	t.Logf("%d files", checked)
}
