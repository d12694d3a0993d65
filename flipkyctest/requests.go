package flipkyctest

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/flipkyc/flipkyc"
)

// maxRequestBytes bounds a request body the fake reads: a few images.
const maxRequestBytes = 32 << 20

// upload is one file part of a multipart request.
type upload struct {
	filename    string
	contentType string
	size        int64
	head        []byte // the start of the file, enough for its image header
}

// parseBody reads the query string and the body (form-urlencoded or
// multipart) into x.rec.Fields and the request's uploads, and checks the
// content type each route requires.
func parseBody(x *exchange) error {
	for k, v := range x.r.URL.Query() {
		x.rec.Fields[k] = v[0]
	}
	if x.r.Method == http.MethodGet {
		return nil
	}
	mt, params, err := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if err != nil {
		return errors.New("missing or invalid Content-Type")
	}
	want := "multipart/form-data"
	switch x.route {
	case RouteCreateAgent, RouteUpdateAgent:
		want = "application/x-www-form-urlencoded"
	case RouteRepairData:
		if mt == "application/x-www-form-urlencoded" {
			want = mt // Flip documents both for repair
		}
	}
	if mt != want {
		return fmt.Errorf("Content-Type must be %s", want)
	}
	body := http.MaxBytesReader(nil, x.r.Body, maxRequestBytes)
	if mt == "application/x-www-form-urlencoded" {
		b, err := io.ReadAll(body)
		if err != nil {
			return errors.New("body too large or unreadable")
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return errors.New("invalid form body")
		}
		for k, v := range form {
			x.rec.Fields[k] = v[0]
		}
		return nil
	}
	x.files = map[string]upload{}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errors.New("invalid multipart body")
		}
		if p.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(p, 64<<10))
			if err != nil {
				return errors.New("invalid multipart body")
			}
			x.rec.Fields[p.FormName()] = string(v)
			continue
		}
		var head bytes.Buffer
		n, err := io.Copy(io.Discard, io.TeeReader(p, &limitedBuffer{&head, 256 << 10}))
		if err != nil {
			return errors.New("invalid multipart body")
		}
		x.files[p.FormName()] = upload{filename: p.FileName(), contentType: p.Header.Get("Content-Type"), size: n, head: head.Bytes()}
		x.rec.Files[p.FormName()] = n
	}
	return nil
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// checkImage applies Flip's image rules to an upload and returns the KYC
// error code and message for the first rule broken, or 0.
func checkImage(u upload) (int, string) {
	if u.size >= flipkyc.MaxImageBytes+1 {
		return 4007, "Image file size is too large"
	}
	var cfg image.Config
	var err error
	switch {
	case bytes.HasPrefix(u.head, []byte("\x89PNG\r\n\x1a\n")):
		cfg, err = png.DecodeConfig(bytes.NewReader(u.head))
	case bytes.HasPrefix(u.head, []byte("\xff\xd8\xff")):
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(u.head))
	default:
		return 4008, "Image is not valid"
	}
	switch {
	case err != nil:
		return 4009, "Failed reading image data"
	case cfg.Width < flipkyc.MinImageSide || cfg.Height < flipkyc.MinImageSide ||
		cfg.Width > flipkyc.MaxImageSide || cfg.Height > flipkyc.MaxImageSide:
		return 4008, "Image is not valid"
	}
	return 0, ""
}

// agentParams reads a create or update form into typed parameters; a value
// that cannot be read is reported by its field name.
func agentParams(f map[string]string) (flipkyc.AgentParams, string) {
	p := flipkyc.AgentParams{
		Name: f["name"], IdentityType: flipkyc.IdentityType(f["identity_type"]), IdentityNumber: f["identity_number"],
		BirthPlace: f["birth_place"], Address: f["address"], Gender: flipkyc.Gender(f["gender"]),
		Occupation: flipkyc.Occupation(f["occupation"]), PhoneNumber: f["phone_number"],
		ResidenceAddress: f["residence_address"], Email: f["email"],
	}
	if bad := readDateAndIDs(f, &p.BirthDate, &p.CountryID, &p.ProvinceID, &p.CityID, &p.DistrictID,
		&p.ResidenceCountryID, &p.ResidenceProvinceID, &p.ResidenceCityID, &p.ResidenceDistrictID); bad != "" {
		return p, bad
	}
	switch f["use_identity_address"] {
	case "":
	case "0", "1":
		p.UseIdentityAddress = flipkyc.Ptr(f["use_identity_address"] == "1")
	default:
		return p, "use_identity_address"
	}
	return p, ""
}

// readDateAndIDs parses the optional birth_date and the eight location id
// fields into the given places, and returns the name of a field it cannot
// read, or "".
func readDateAndIDs(f map[string]string, birth *flipkyc.Date, ids ...*int64) string {
	if v := f["birth_date"]; v != "" {
		// Flip documents DD-MM-YYYY only; the SDK's ParseDate is more lenient.
		t, err := time.Parse("02-01-2006", v)
		if err != nil {
			return "birth_date"
		}
		*birth = flipkyc.DateOf(t)
	}
	names := []string{"country_id", "province_id", "city_id", "district_id",
		"residence_country_id", "residence_province_id", "residence_city_id", "residence_district_id"}
	for i, name := range names {
		v := f[name]
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return name
		}
		*ids[i] = n
	}
	return ""
}

// repairParams reads a repair form (identity type and gender as 1 or 2).
func repairParams(f map[string]string) (flipkyc.RepairDataParams, string) {
	p := flipkyc.RepairDataParams{
		Name: f["name"], IdentityNumber: f["identity_number"], BirthPlace: f["birth_place"],
		Occupation: flipkyc.Occupation(f["occupation"]), Address: f["address"],
		ResidenceAddress: f["residence_address"], PhoneNumber: f["phone_number"],
	}
	switch f["identity_type"] {
	case "":
	case "1":
		p.IdentityType = flipkyc.IdentityKTP
	case "2":
		p.IdentityType = flipkyc.IdentityPassport
	default:
		return p, "identity_type"
	}
	switch f["gender"] {
	case "":
	case "1":
		p.Gender = flipkyc.GenderMale
	case "2":
		p.Gender = flipkyc.GenderFemale
	default:
		return p, "gender"
	}
	if bad := readDateAndIDs(f, &p.BirthDate, &p.CountryID, &p.ProvinceID, &p.CityID, &p.DistrictID,
		&p.ResidenceCountryID, &p.ResidenceProvinceID, &p.ResidenceCityID, &p.ResidenceDistrictID); bad != "" {
		return p, bad
	}
	if v := f["use_identity_address"]; v != "" {
		p.UseIdentityAddress = flipkyc.Ptr(v == "1")
	}
	return p, ""
}

// now is the fake's clock, in Flip's zone-less local-time layout.
func now() flipkyc.Timestamp {
	t := time.Now().Truncate(time.Second)
	ts, _ := flipkyc.ParseTimestamp(t.In(time.FixedZone("WIB", 7*3600)).Format("2006-01-02 15:04:05"))
	return ts
}
