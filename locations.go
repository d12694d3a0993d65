package flipkyc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Location is a country, province, city or district from Flip's look-ups.
// Its ID goes into the agent's location fields.
type Location struct {
	// ID is Flip's id of the place.
	ID int64 `json:"id"`
	// Name is the place's name, such as "Jawa Barat".
	Name string `json:"name"`
}

// ListCountries returns the countries Flip knows (GET /countries), for the
// CountryID fields. Look-ups are reads, retried as reads are.
func (c *Client) ListCountries(ctx context.Context, opts ...CallOption) ([]Location, error) {
	return c.listLocations(ctx, "ListCountries", "/countries", "countries", "", 0, opts)
}

// ListProvinces returns the provinces of a country (GET /provinces); a zero
// countryID lists them all.
func (c *Client) ListProvinces(ctx context.Context, countryID int64, opts ...CallOption) ([]Location, error) {
	return c.listLocations(ctx, "ListProvinces", "/provinces", "provinces", "country_id", countryID, opts)
}

// ListCities returns the cities of a province (GET /cities); a zero
// provinceID lists them all.
func (c *Client) ListCities(ctx context.Context, provinceID int64, opts ...CallOption) ([]Location, error) {
	return c.listLocations(ctx, "ListCities", "/cities", "cities", "province_id", provinceID, opts)
}

// ListDistricts returns the districts of a city (GET /districts); a zero
// cityID lists them all.
func (c *Client) ListDistricts(ctx context.Context, cityID int64, opts ...CallOption) ([]Location, error) {
	return c.listLocations(ctx, "ListDistricts", "/districts", "districts", "city_id", cityID, opts)
}

// locationReply decodes the reply {"<key>": [{"id":…, "name":…}, …]}.
type locationReply struct {
	key   string
	items []Location
}

func (r *locationReply) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	raw, ok := m[r.key]
	if !ok {
		return fmt.Errorf("reply has no %q list", r.key)
	}
	var items []struct {
		ID   flexInt `json:"id"`
		Name string  `json:"name"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("%s: %w", r.key, err)
	}
	r.items = make([]Location, len(items))
	for i, it := range items {
		r.items[i] = Location{ID: int64(it.ID), Name: it.Name}
	}
	return nil
}

func (c *Client) listLocations(ctx context.Context, op, path, key, filter string, parent int64, opts []CallOption) ([]Location, error) {
	var v fieldErrors
	v.id(filter, parent, false)
	if err := v.err(op); err != nil {
		return nil, err
	}
	q := url.Values{"user_type": {UserTypeAgent.String()}}
	if parent != 0 {
		q.Set(filter, strconv.FormatInt(parent, 10))
	}
	reply := locationReply{key: key}
	if err := c.do(ctx, call{op: op, method: http.MethodGet, api: kycAPI, path: path, query: q, repeatable: true}, &reply, opts); err != nil {
		return nil, err
	}
	return reply.items, nil
}
