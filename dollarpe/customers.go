package dollarpe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

func (c *Customer) setRaw(raw json.RawMessage)         { c.Raw = raw }
func (k *KYCConfiguration) setRaw(raw json.RawMessage) { k.Raw = raw }
func (r *KYCResult) setRaw(raw json.RawMessage)        { r.Raw = raw }

func (c *Customer) checkResponse() error {
	if c.ID == "" {
		return errors.New("reply has no customer id")
	}
	return nil
}

// CreateCustomer creates a customer (POST /customer/create); it starts
// UNVERIFIED. Email, phone and client reference id must be unique: a
// repeat fails with an error matching ErrDuplicate.
func (c *Client) CreateCustomer(ctx context.Context, p CreateCustomerParams, opts ...CallOption) (*Customer, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	var out Customer
	err := c.do(ctx, call{op: "CreateCustomer", method: http.MethodPost, path: "/customer/create", body: p,
		sent: p.personal()}, &out, opts)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetCustomer reads a customer and its KYC status (GET
// /customer/{customer_id}). DollarPe asks that a customer be polled at
// most once a minute; prefer webhooks.
func (c *Client) GetCustomer(ctx context.Context, customerID string, opts ...CallOption) (*Customer, error) {
	if err := validateCustomerID("GetCustomer", customerID); err != nil {
		return nil, err
	}
	var out Customer
	err := c.do(ctx, call{op: "GetCustomer", method: http.MethodGet, path: "/customer/" + url.PathEscape(customerID)}, &out, opts)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetKYCConfiguration reads which KYC data a customer needs (GET
// /kyc/configuration/{customer_id}).
func (c *Client) GetKYCConfiguration(ctx context.Context, customerID string, opts ...CallOption) (*KYCConfiguration, error) {
	if err := validateCustomerID("GetKYCConfiguration", customerID); err != nil {
		return nil, err
	}
	var out KYCConfiguration
	err := c.do(ctx, call{op: "GetKYCConfiguration", method: http.MethodGet,
		path: "/kyc/configuration/" + url.PathEscape(customerID)}, &out, opts)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AddKYCData submits a customer's KYC data for review (POST
// /kyc/add-kyc-data); the customer becomes PROCESSING. A second
// submission fails with ErrKYCExists, data used by another customer with
// ErrKYCInUse.
func (c *Client) AddKYCData(ctx context.Context, p AddKYCDataParams, opts ...CallOption) (*KYCResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return c.kyc(ctx, call{op: "AddKYCData", method: http.MethodPost, path: "/kyc/add-kyc-data", body: p,
		sent: p.personal()}, opts)
}

// UpdateDocumentInfo re-submits the identity document after a
// DOCUMENT_VERIFICATION_FAILED (PATCH /kyc/update-document-info). Each
// update uses one of the customer's 3; past them it fails with
// ErrUpdateLimit. It is never repeated after it may have reached DollarPe.
// DollarPe documents the reply's status as UNVERIFIED; whatever status
// comes is returned.
func (c *Client) UpdateDocumentInfo(ctx context.Context, p UpdateDocumentInfoParams, opts ...CallOption) (*KYCResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return c.kyc(ctx, call{op: "UpdateDocumentInfo", method: http.MethodPatch, path: "/kyc/update-document-info",
		body: p, sent: p.personal()}, opts)
}

// UpdateTaxInfo re-submits the tax number (PAN) after a
// TAX_VERIFICATION_FAILED (PATCH /kyc/update-tax-info); it uses one of the
// customer's 3 updates.
func (c *Client) UpdateTaxInfo(ctx context.Context, p UpdateTaxInfoParams, opts ...CallOption) (*KYCResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return c.kyc(ctx, call{op: "UpdateTaxInfo", method: http.MethodPatch, path: "/kyc/update-tax-info",
		body: p, sent: personalValues([]string{p.TaxNumber}, nil, nil)}, opts)
}

// UpdateAdditionalInfo re-submits the additional info (PATCH
// /kyc/update-additional-info); it uses one of the customer's 3 updates.
func (c *Client) UpdateAdditionalInfo(ctx context.Context, p UpdateAdditionalInfoParams, opts ...CallOption) (*KYCResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return c.kyc(ctx, call{op: "UpdateAdditionalInfo", method: http.MethodPatch, path: "/kyc/update-additional-info",
		body: p, sent: personalValues(nil, nil, nil, p.AdditionalInfo)}, opts)
}

// UpdateSelfieInfo re-submits the selfie after a SELFIE_VERIFICATION_FAILED
// (PATCH /kyc/update-selfie-info); it uses one of the customer's 3 updates.
func (c *Client) UpdateSelfieInfo(ctx context.Context, p UpdateSelfieInfoParams, opts ...CallOption) (*KYCResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return c.kyc(ctx, call{op: "UpdateSelfieInfo", method: http.MethodPatch, path: "/kyc/update-selfie-info",
		body: p, sent: personalValues([]string{p.SelfieURL}, nil, nil)}, opts)
}

// ResetKYC moves a VERIFIED customer back to UNVERIFIED (POST
// /kyc/reset-kyc). It cannot be undone.
func (c *Client) ResetKYC(ctx context.Context, customerID string, opts ...CallOption) (*KYCResult, error) {
	if err := validateCustomerID("ResetKYC", customerID); err != nil {
		return nil, err
	}
	return c.kyc(ctx, call{op: "ResetKYC", method: http.MethodPost, path: "/kyc/reset-kyc",
		body: map[string]string{"customer_id": customerID}}, opts)
}

// MockKYCStatus moves a customer to target in the sandbox (PATCH
// /kyc/mock-kyc-status, body {customer_id, kyc_status}, the field named as
// DollarPe's OpenAPI names it); see
// MockTransitionAllowed for the moves DollarPe allows. A production client
// refuses it with a *ValidationError matching ErrSandboxOnly, before
// anything is sent.
func (c *Client) MockKYCStatus(ctx context.Context, customerID string, target MockTarget, opts ...CallOption) (*KYCResult, error) {
	if !c.configured() {
		return nil, fmt.Errorf("dollarpe: MockKYCStatus: %w", ErrNotConfigured)
	}
	var v validator
	if c.env != Sandbox {
		v.add("environment", ruleSandboxOnly)
	}
	v.uuid("customer_id", customerID)
	switch target {
	case MockUnverified, MockVerified, MockTaxFailed, MockDocumentFailed:
	default:
		v.add("kyc_status", ruleMockTarget)
	}
	if err := v.err("MockKYCStatus"); err != nil {
		if c.env != Sandbox {
			err.(*ValidationError).err = ErrSandboxOnly
		}
		return nil, err
	}
	return c.kyc(ctx, call{op: "MockKYCStatus", method: http.MethodPatch, path: "/kyc/mock-kyc-status",
		body: map[string]string{"customer_id": customerID, "kyc_status": string(target)}}, opts)
}

// kyc runs a call whose reply data is {id, status}.
func (c *Client) kyc(ctx context.Context, r call, opts []CallOption) (*KYCResult, error) {
	var out KYCResult
	if err := c.do(ctx, r, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}
