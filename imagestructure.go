package flipkyc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// Rules an image breaks when its structure, past the header, is broken.
const (
	rulePNGCutShort   = "is a PNG cut short: it ends before its last chunk (IEND); was the file copied whole?"
	rulePNGChecksum   = "is a damaged PNG: a chunk's checksum (CRC) does not match its content"
	rulePNGChunk      = "is a damaged PNG: a chunk's length or type is invalid"
	rulePNGNoData     = "is a damaged PNG: it has no image data (IDAT chunk)"
	ruleJPEGCutShort  = "is a JPEG cut short: it ends before its end-of-image marker; was the file copied whole?"
	ruleJPEGSegment   = "is a damaged JPEG: a segment's marker or length is invalid"
	ruleJPEGNoData    = "is a damaged JPEG: it has no image data (no scan)"
	ruleJPEGEmptyScan = "is a damaged JPEG: a scan holds no image data"
)

// imageStructure reads a PNG or JPEG (by contentType) from its first byte
// to its end marker, streaming, and returns the rule its structure breaks,
// or "" when it is whole. A PNG's chunks are walked to IEND and each
// chunk's CRC is checked; a JPEG's segments and scans are walked to its
// end-of-image marker. Pixels are not decoded, what follows the end marker
// is not checked, and one buffer of the image (32 KiB) is held at a time. A
// failed Read is returned as the error.
func imageStructure(contentType string, r io.Reader) (string, error) {
	// A source not in memory is read through ctxReader, a goroutine per
	// Read of up to 32 KiB (its buffer): a buffer as large as that keeps
	// both the goroutines and the read calls of a 2 MB image few (about
	// 60), and is all of the image held at once.
	br := bufio.NewReaderSize(r, 32<<10)
	if contentType == "image/png" {
		return pngStructure(br)
	}
	return jpegStructure(br)
}

// cutShort tells an image that ends early (rule) from a failed Read (err).
func cutShort(rule string, err error) (string, error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return rule, nil
	}
	return "", err
}

// pngStructure walks a PNG's chunks to IEND, checking each chunk's CRC.
func pngStructure(br *bufio.Reader) (string, error) {
	if _, err := br.Discard(8); err != nil { // the signature, already checked
		return cutShort(rulePNGCutShort, err)
	}
	var head [8]byte
	var sum [4]byte
	data := false
	for first := true; ; first = false {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return cutShort(rulePNGCutShort, err)
		}
		length := binary.BigEndian.Uint32(head[:4])
		kind := head[4:]
		if length > 1<<31-1 || !pngChunkType(kind) || first && string(kind) != "IHDR" {
			return rulePNGChunk, nil
		}
		crc := crc32.Update(0, crc32.IEEETable, kind)
		for left := int(length); left > 0; {
			b, err := br.Peek(min(left, br.Size()))
			crc = crc32.Update(crc, crc32.IEEETable, b)
			_, _ = br.Discard(len(b))
			left -= len(b)
			if err != nil && left > 0 {
				return cutShort(rulePNGCutShort, err)
			}
		}
		if _, err := io.ReadFull(br, sum[:]); err != nil {
			return cutShort(rulePNGCutShort, err)
		}
		if binary.BigEndian.Uint32(sum[:]) != crc {
			return rulePNGChecksum, nil
		}
		switch string(kind) {
		case "IDAT":
			data = true
		case "IEND":
			if !data {
				return rulePNGNoData, nil
			}
			return "", nil
		}
	}
}

// pngChunkType reports whether b is a valid chunk type: four ASCII letters.
func pngChunkType(b []byte) bool {
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// JPEG markers the walk tells apart.
const (
	jpegSOI = 0xd8 // start of image
	jpegEOI = 0xd9 // end of image
	jpegSOS = 0xda // start of scan: entropy-coded data follows its header
	jpegTEM = 0x01 // standalone: no length follows
)

// jpegStructure walks a JPEG's segments to its end-of-image marker,
// skipping each segment by its length and each scan's entropy-coded data.
// It is as lenient as the standard library's decoder and libjpeg: bytes
// that are not a marker between segments, and restart markers outside a
// scan, are skipped.
func jpegStructure(br *bufio.Reader) (string, error) {
	if _, err := br.Discard(2); err != nil { // SOI, already checked
		return cutShort(ruleJPEGCutShort, err)
	}
	scanned, inScan := false, false
	for {
		marker, skipped, err := jpegNextMarker(br)
		if err != nil {
			return cutShort(ruleJPEGCutShort, err)
		}
		if inScan && skipped == 0 {
			return ruleJPEGEmptyScan, nil
		}
		inScan = marker == jpegSOS
		switch marker {
		case jpegEOI:
			if !scanned {
				return ruleJPEGNoData, nil
			}
			return "", nil
		case jpegSOI:
			return ruleJPEGSegment, nil
		case jpegTEM:
			continue
		case jpegSOS:
			scanned = true
		}
		var size [2]byte
		if _, err := io.ReadFull(br, size[:]); err != nil {
			return cutShort(ruleJPEGCutShort, err)
		}
		n := int(binary.BigEndian.Uint16(size[:]))
		if n < 2 {
			return ruleJPEGSegment, nil
		}
		if _, err := br.Discard(n - 2); err != nil {
			return cutShort(ruleJPEGCutShort, err)
		}
	}
}

// jpegNextMarker skips to the next marker other than a restart marker
// (RST0 to RST7), past a scan's entropy-coded data, in which 0xFF is
// followed by 0x00 (a stuffed byte) or a restart marker, and past any other
// bytes, and returns the marker's code and how many bytes it skipped before
// it, fill bytes (0xFF before a code) aside.
func jpegNextMarker(br *bufio.Reader) (marker byte, skipped int, err error) {
	for {
		// Look for the next 0xFF in what is buffered, a buffer at a time.
		if _, err := br.Peek(1); err != nil {
			return 0, skipped, err
		}
		b, _ := br.Peek(br.Buffered())
		i := bytes.IndexByte(b, 0xff)
		if i < 0 {
			skipped += len(b)
			_, _ = br.Discard(len(b))
			continue
		}
		skipped += i
		_, _ = br.Discard(i + 1)
		c := byte(0xff)
		for c == 0xff {
			if c, err = br.ReadByte(); err != nil {
				return 0, skipped, err
			}
		}
		if c != 0x00 && !(0xd0 <= c && c <= 0xd7) {
			return c, skipped, nil
		}
		skipped += 2 // a stuffed byte or a restart marker: data of the scan
	}
}
