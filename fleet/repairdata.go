package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/flipkyc/flipkyc"
)

// Corrections given as bytes (Repair.IdentityImageData, SelfieImageData,
// DocumentFile.Data): a browser's upload has no file in the images
// directory. The bytes are checked by Flip's image rules before anything
// is stored, kept in the agent's sealed correction until sent, and
// dropped with it once sent.

// checkRepair returns the rules rp breaks that need nothing of the run:
// the images given as bytes against Flip's image rules
// (flipkyc.Image.Validate), the corrected data against the SDK's rules,
// and that the agent is named.
func checkRepair(rp Repair) []RowError {
	var bad []RowError
	if rp.IdentityNumber == "" && rp.AgentLine == 0 {
		bad = append(bad, RowError{rp.Line, "identity_number", "required: it names the agent to repair"})
	}
	image := func(field string, data []byte) {
		if data == nil {
			return
		}
		if rule := imageRule(data); rule != "" {
			bad = append(bad, RowError{rp.Line, field, rule})
		}
	}
	image("identity_image", rp.IdentityImageData)
	image("selfie_image", rp.SelfieImageData)
	for _, d := range rp.Documents {
		switch {
		case d.Data == nil && d.Path == "":
			bad = append(bad, RowError{rp.Line, "documents", fmt.Sprintf("%s: give the document's image", d.Type)})
		case !d.Type.Known():
			bad = append(bad, RowError{rp.Line, "documents", "unknown document type (one of Flip's: family_card, npwp, bpjs_kesehatan, …)"})
		default:
			image("documents", d.Data)
		}
	}
	if rp.Data != nil {
		if err := rp.Data.Validate(); err != nil {
			bad = append(bad, fieldErrors(rp.Line, err)...)
		}
	}
	return bad
}

// imageRule is the rules of Flip the image data breaks, "" when none.
func imageRule(data []byte) string {
	if len(data) == 0 {
		return "the image is empty"
	}
	err := (flipkyc.Image{Name: "image", Content: bytes.NewReader(data)}).Validate()
	if err == nil {
		return ""
	}
	var ve *flipkyc.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 {
		return "cannot be read as an image"
	}
	rules := make([]string, len(ve.Fields))
	for i, f := range ve.Fields {
		rules[i] = f.Rule
	}
	return "Flip's image rules: " + strings.Join(rules, "; ")
}

// hasIdentityImage reports whether rp gives a new identity photo, as a
// file or as bytes.
func (rp Repair) hasIdentityImage() bool {
	return rp.IdentityImage != "" || rp.IdentityImageData != nil
}

// hasSelfieImage reports whether rp gives a new selfie, as a file or as
// bytes.
func (rp Repair) hasSelfieImage() bool { return rp.SelfieImage != "" || rp.SelfieImageData != nil }

// imageData is the new selfie (or identity photo) rp gives as bytes, as
// an image to upload; nil when it gives none.
func (rp Repair) imageData(selfie bool) *flipkyc.Image {
	data, name := rp.IdentityImageData, "identity.jpg"
	if selfie {
		data, name = rp.SelfieImageData, "selfie.jpg"
	}
	if data == nil {
		return nil
	}
	return &flipkyc.Image{Name: name, Content: bytes.NewReader(data)} // the SDK fixes the extension
}

// documentImage is the image of the document d: its bytes, or its file
// inside the images directory dir; the closer closes what was opened.
func documentImage(dir string, d DocumentFile) (flipkyc.Image, io.Closer, error) {
	if d.Data != nil {
		return flipkyc.Image{Name: string(d.Type) + ".jpg", Content: bytes.NewReader(d.Data)}, io.NopCloser(nil), nil
	}
	file, err := openImage(dir, d.Path)
	if err != nil {
		return flipkyc.Image{}, nil, err
	}
	return flipkyc.Image{Name: filepath.Base(d.Path), Content: file}, file, nil
}

// withoutIdentityData is the agent's correction, sealed, without the
// identity photo it gave as bytes (Flip has it now); the correction as
// stored when it gave none.
func (f *Fleet) withoutIdentityData(a *agent) (string, error) {
	if a.Repair == "" {
		return "", nil
	}
	var fix Repair
	if err := json.Unmarshal([]byte(a.Repair), &fix); err != nil || fix.IdentityImageData == nil {
		return f.db.key.seal(a.Key, []byte(a.Repair)), nil
	}
	fix.IdentityImageData = nil
	b, err := json.Marshal(fix)
	if err != nil {
		return "", err
	}
	a.Repair = string(b)
	return f.db.key.seal(a.Key, b), nil
}

// repairKey is the key of the agent rp names: by its line in the run
// (AgentLine) or by its identity number. A line no agent has, or several
// (a CSV imported again after an erasure), is a RowError.
func (f *Fleet) repairKey(ctx context.Context, rp Repair) (string, RowError, error) {
	if rp.AgentLine == 0 {
		return f.db.key.agentKey(rp.IdentityNumber), RowError{}, nil
	}
	var keys []string
	rows, err := f.db.query(ctx, f.db.sql, "SELECT key FROM fleet_agents WHERE line = ? ORDER BY key LIMIT 2", rp.AgentLine)
	if err != nil {
		return "", RowError{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return "", RowError{}, err
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return "", RowError{}, err
	}
	switch len(keys) {
	case 0:
		return "", RowError{rp.Line, "line", "no agent of this run has it"}, nil
	case 1:
		return keys[0], RowError{}, nil
	}
	return "", RowError{rp.Line, "line", "names 2 agents or more (a CSV imported again after an erasure): give the identity number"}, nil
}

// uploadCorrection names what a correction for an agent's uploads gives:
// "data, identity image, selfie" or part of it.
func uploadCorrection(rp Repair) string {
	var parts []string
	if rp.Data != nil {
		parts = append(parts, "data")
	}
	if rp.hasIdentityImage() {
		parts = append(parts, "identity image")
	}
	if rp.hasSelfieImage() {
		parts = append(parts, "selfie")
	}
	return strings.Join(parts, ", ")
}
