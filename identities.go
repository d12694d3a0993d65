package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// UploadResult is Flip's answer to an image upload or an image repair.
type UploadResult struct {
	// ImageURL is where Flip stored the image. Treat it as opaque: Flip's
	// examples show both relative and absolute values.
	ImageURL string `json:"image_url"`
	// ConfirmedByRead is true when Flip's reply to a repair was lost and the
	// SDK confirmed the repair by reading the agent; ImageURL is empty then.
	ConfirmedByRead bool `json:"-"`
}

func (r *UploadResult) checkResponse() error {
	if r.ImageURL == "" {
		return errors.New("reply has no image_url")
	}
	return nil
}

// UploadIdentityImage uploads the photo of the agent's identity card
// (PUT /users/{id}/identities with selfie=0). It is step one of two; the
// selfie holding the card follows with UploadSelfieWithIdentity. The image is
// checked against Flip's rules (PNG or JPEG, under 2 MB, 256 to 4096 pixels a
// side) before anything is sent; only the size of a stream of unknown size is
// counted as it is sent (see Image).
//
// Flip counts uploads and refuses them after a maximum (ErrUploadLimitReached),
// so an upload is repeated only when it provably never left the machine
// whole, or on HTTP 429. When it fails after that, the error matches
// ErrOutcomeUnknown: read the agent before uploading again.
func (c *Client) UploadIdentityImage(ctx context.Context, agentID int64, t IdentityType, img Image, opts ...CallOption) (*UploadResult, error) {
	return c.uploadIdentity(ctx, "UploadIdentityImage", agentID, t, false, img, opts)
}

// UploadSelfieWithIdentity uploads the selfie of the agent holding the
// identity card (PUT /users/{id}/identities with selfie=1). Flip then checks
// both images and sends a callback with StatusUploadIdentitySelfieSuccess or
// StatusUploadIdentitySelfieFailed. Rules and retries as for
// UploadIdentityImage.
func (c *Client) UploadSelfieWithIdentity(ctx context.Context, agentID int64, t IdentityType, img Image, opts ...CallOption) (*UploadResult, error) {
	return c.uploadIdentity(ctx, "UploadSelfieWithIdentity", agentID, t, true, img, opts)
}

func (c *Client) uploadIdentity(ctx context.Context, op string, agentID int64, t IdentityType, selfie bool, img Image, opts []CallOption) (*UploadResult, error) {
	var v fieldErrors
	switch {
	case t == "":
		v.add("identity_type", "is required")
	case !t.Known():
		v.add("identity_type", `must be "ktp" or "passport"`)
	}
	res, err := c.putImage(ctx, op, &v, agentID, "/identities",
		[]field{{"identity_type", t.kycCode()}, {"selfie", boolDigit(selfie)}}, img, opts, nil)
	return res, explainOutcome(err, agentID, nextUpload)
}

// putImage sends one image, with user_type and the given fields, to
// PUT /users/{id}{suffix}. v holds the caller's own input checks. A repair
// passes its stateChangeRule, and an unknown outcome is then settled by reading
// the agent (settle); an upload passes nil.
func (c *Client) putImage(ctx context.Context, op string, v *fieldErrors, agentID int64, suffix string, fields []field, img Image, opts []CallOption, repair *stateChangeRule) (*UploadResult, error) {
	v.agentID(agentID)
	prepared, err := prepareImageWithin(ctx, v, "image", img, c.maxImageBytes, c.idleTimeout)
	if err != nil {
		if local := imageReadFailure(op, err); local != nil {
			return nil, local
		}
		return nil, fmt.Errorf("flipkyc: %s: reading image: %w", op, err)
	}
	if err := v.err(op); err != nil {
		return nil, err
	}
	fields = append([]field{{"user_type", UserTypeAgent.String()}}, fields...)
	body := newImageBody(ctx, c.http.Timeout, c.idleTimeout, fields, []*preparedImage{prepared})
	defer body.close()
	var res UploadResult
	send := func(opts []CallOption) error {
		res = UploadResult{}
		return c.do(ctx, call{op: op, method: http.MethodPut, api: kycAPI, path: userPath(agentID) + suffix,
			body: body, sent: fileNames{prepared.name}, anyReply: true}, &res, opts)
	}
	if repair == nil {
		err = send(opts)
	} else {
		repair.replayable = body.replayable
		var a *Agent
		if a, err = c.settle(ctx, repair, opts, send); a != nil {
			return &UploadResult{ConfirmedByRead: true}, nil
		}
	}
	if err != nil {
		return nil, asValidationError(op, err)
	}
	return &res, nil
}

func userPath(id int64) string { return "/users/" + strconv.FormatInt(id, 10) }
