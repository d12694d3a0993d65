package flipkyc

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// DocumentType is a kind of supporting document Flip accepts from
// UploadDocuments; its value is the multipart field name Flip expects.
type DocumentType string

// Supporting document types. Each may be sent as the document itself and as
// a selfie of the agent holding it.
const (
	DocumentStudentCard     DocumentType = "student_card"
	DocumentEmployeeCard    DocumentType = "employee_card"
	DocumentLastCertificate DocumentType = "last_certificate" // the most recent education certificate
	DocumentPassport        DocumentType = "passport"
	DocumentFamilyCard      DocumentType = "family_card" // Kartu Keluarga
	DocumentDrivingLicense  DocumentType = "driving_license"
	DocumentMarriedCard     DocumentType = "married_card"   // marriage card
	DocumentNPWP            DocumentType = "npwp"           // tax id card
	DocumentBPJSKesehatan   DocumentType = "bpjs_kesehatan" // health-insurance card
)

// Known reports whether t is one of the documented document types.
func (t DocumentType) Known() bool {
	switch t {
	case DocumentStudentCard, DocumentEmployeeCard, DocumentLastCertificate, DocumentPassport,
		DocumentFamilyCard, DocumentDrivingLicense, DocumentMarriedCard, DocumentNPWP, DocumentBPJSKesehatan:
		return true
	}
	return false
}

// Document is one supporting-document image to upload.
type Document struct {
	// Type is the kind of document, such as DocumentFamilyCard.
	Type DocumentType
	// Selfie marks the image of the agent holding the document.
	Selfie bool
	// Image is the photo itself.
	Image Image
}

// fieldName is the multipart field Flip expects for d, such as "npwp_selfie".
func (d Document) fieldName() string {
	if d.Selfie {
		return string(d.Type) + "_selfie"
	}
	return string(d.Type)
}

// UploadedDocument is one image Flip stored from UploadDocuments.
type UploadedDocument struct {
	// ID is Flip's id of the stored image; a numeric string decodes too.
	ID int64 `json:"id"`
	// Type is Flip's type number, which its docs describe both as the user
	// type and as the document type.
	Type int `json:"type"`
	// Selfie is true for the image of the agent holding the document.
	Selfie bool `json:"selfie"`
	// Path is where Flip stored the image; treat it as opaque.
	Path string `json:"path"`
	// CreatedAt is when Flip stored the record.
	CreatedAt Timestamp `json:"created_at"`
	// UpdatedAt is when Flip last changed the record.
	UpdatedAt Timestamp `json:"updated_at"`
}

// documentReply decodes an uploaded document, accepting its id and type as
// numbers or numeric strings, and leniently as agents are.
type documentReply struct {
	documentFields
	ID   flexInt `json:"id"`
	Type flexInt `json:"type"`
}

// documentFields is UploadedDocument without its methods.
type documentFields UploadedDocument

func (*documentReply) lenient() {}

// UnmarshalJSON decodes an uploaded document leniently: its id and type as
// numbers or numeric strings, a field of an unexpected type converted where
// its meaning is plain or left zero.
func (d *UploadedDocument) UnmarshalJSON(b []byte) error {
	var r documentReply
	if err := decodeReply(b, &r); err != nil {
		return err
	}
	*d = UploadedDocument(r.documentFields)
	d.ID, d.Type = int64(r.ID), int(r.Type)
	return nil
}

// UploadDocuments uploads supporting documents for an agent (POST /documents),
// at least one, and returns what Flip stored. Each document type may be sent
// once as the document and once as a selfie holding it. Flip accepts them
// only in StatusRejected or StatusUploadIdentitySelfieFailed
// (ErrInvalidAgentStatus otherwise; see KYCStatus.CanUploadDocuments). Every
// image is checked against Flip's image rules before anything is sent (the
// size of a stream of unknown size as it is sent; see Image); the request is
// repeated only when it provably never left the machine whole, or on 429;
// when it fails after that, the error matches ErrOutcomeUnknown.
func (c *Client) UploadDocuments(ctx context.Context, agentID int64, docs []Document, opts ...CallOption) ([]UploadedDocument, error) {
	var v fieldErrors
	v.agentID(agentID)
	if len(docs) == 0 {
		v.add("documents", "at least one document is required")
	}
	seen := make(map[string]bool, len(docs))
	images := make([]*preparedImage, 0, len(docs))
	for _, d := range docs {
		name := d.fieldName()
		switch {
		case !d.Type.Known():
			v.add("documents", "unknown document type (see the Document… constants)")
			continue
		case seen[name]:
			v.add(name, "is given twice")
			continue
		}
		seen[name] = true
		img, err := prepareImageWithin(ctx, &v, name, d.Image, c.maxImageBytes, c.idleTimeout)
		if err != nil {
			if local := imageReadFailure("UploadDocuments", err); local != nil {
				return nil, local
			}
			return nil, fmt.Errorf("flipkyc: UploadDocuments: reading %s: %w", name, err)
		}
		if img != nil {
			images = append(images, img)
		}
	}
	if err := v.err("UploadDocuments"); err != nil {
		return nil, err
	}
	fields := []field{{"user_id", strconv.FormatInt(agentID, 10)}, {"user_type", UserTypeAgent.String()}}
	names := make(fileNames, len(images))
	for i, img := range images {
		names[i] = img.name
	}
	body := newImageBody(ctx, c.http.Timeout, c.idleTimeout, fields, images)
	defer body.close()
	var res []UploadedDocument
	err := c.do(ctx, call{op: "UploadDocuments", method: http.MethodPost, api: kycAPI, path: "/documents",
		body: body, sent: names, anyReply: true}, &res, opts)
	if err != nil {
		return nil, explainOutcome(asValidationError("UploadDocuments", err), agentID, nextDocuments)
	}
	return res, nil
}
