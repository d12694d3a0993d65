package flipkyc

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noNetworkClient returns a client whose server fails the test if any
// request reaches it, and the counter of requests.
func noNetworkClient(t *testing.T) (*Client, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(500)
	}))
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL, srv.URL)
	return c, &hits
}

func TestAgentParamsValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(p *AgentParams)
		field  string // "" = valid
		detail string
	}{
		{"documented example is valid", func(p *AgentParams) {}, "", ""},
		{"name 1 char", func(p *AgentParams) { p.Name = "J" }, "", ""},
		{"name 50 chars", func(p *AgentParams) { p.Name = strings.Repeat("a", 50) }, "", ""},
		{"name 51 chars", func(p *AgentParams) { p.Name = strings.Repeat("a", 51) }, "name", "at most 50"},
		{"name empty", func(p *AgentParams) { p.Name = "" }, "name", "required"},
		{"name with accents is allowed", func(p *AgentParams) { p.Name = "José Émilie Nguyễn" }, "", ""},
		{"name of 50 accented letters", func(p *AgentParams) { p.Name = strings.Repeat("é", 50) }, "", ""},
		{"name of 51 emoji", func(p *AgentParams) { p.Name = strings.Repeat("😀", 51) }, "name", "at most 50"},
		{"name right-to-left", func(p *AgentParams) { p.Name = "محمد علي" }, "", ""},
		{"name control char", func(p *AgentParams) { p.Name = "John\x00Doe" }, "name", "control"},
		{"name newline", func(p *AgentParams) { p.Name = "John\nDoe" }, "name", "control"},
		{"name leading space", func(p *AgentParams) { p.Name = " John" }, "name", "spaces"},
		{"name trailing space", func(p *AgentParams) { p.Name = "John " }, "name", "spaces"},
		{"name invalid utf-8", func(p *AgentParams) { p.Name = "Jo\xffhn" }, "name", "UTF-8"},
		{"huge name", func(p *AgentParams) { p.Name = strings.Repeat("x", 1<<20) }, "name", "at most 50"},
		{"identity type missing", func(p *AgentParams) { p.IdentityType = "" }, "identity_type", "required"},
		{"identity type unknown", func(p *AgentParams) { p.IdentityType = "kitas" }, "identity_type", "ktp"},
		{"ktp number 16", func(p *AgentParams) { p.IdentityNumber = strings.Repeat("1", 16) }, "", ""},
		{"ktp number 17", func(p *AgentParams) { p.IdentityNumber = strings.Repeat("1", 17) }, "identity_number", "at most 16"},
		{"passport number 20", func(p *AgentParams) {
			p.IdentityType, p.IdentityNumber = IdentityPassport, strings.Repeat("A", 20)
		}, "", ""},
		{"passport number 21", func(p *AgentParams) {
			p.IdentityType, p.IdentityNumber = IdentityPassport, strings.Repeat("A", 21)
		}, "identity_number", "at most 20"},
		{"identity number missing", func(p *AgentParams) { p.IdentityNumber = "" }, "identity_number", "required"},
		{"identity number with an inner space is Flip's to judge", func(p *AgentParams) { p.IdentityNumber = "1234 5678" }, "", ""},
		{"birth date missing", func(p *AgentParams) { p.BirthDate = Date{} }, "birth_date", "required"},
		{"birth date 31 February", func(p *AgentParams) { p.BirthDate = NewDate(1990, time.February, 31) }, "birth_date", "real calendar day"},
		{"birth place 255", func(p *AgentParams) { p.BirthPlace = strings.Repeat("b", 255) }, "", ""},
		{"birth place 256", func(p *AgentParams) { p.BirthPlace = strings.Repeat("b", 256) }, "birth_place", "at most 255"},
		{"birth place missing", func(p *AgentParams) { p.BirthPlace = "" }, "birth_place", "required"},
		{"country id missing", func(p *AgentParams) { p.CountryID = 0 }, "country_id", "required"},
		{"province id negative", func(p *AgentParams) { p.ProvinceID = -1 }, "province_id", "positive"},
		{"city id missing", func(p *AgentParams) { p.CityID = 0 }, "city_id", "required"},
		{"district id missing", func(p *AgentParams) { p.DistrictID = 0 }, "district_id", "required"},
		{"address 10", func(p *AgentParams) { p.Address = "Jl. Raya 1" }, "", ""},
		{"address 9", func(p *AgentParams) { p.Address = "Jl Raya 1" }, "address", "10 to 300"},
		{"address 300", func(p *AgentParams) { p.Address = strings.Repeat("a", 300) }, "", ""},
		{"address 301", func(p *AgentParams) { p.Address = strings.Repeat("a", 301) }, "address", "10 to 300"},
		{"address allowed punctuation", func(p *AgentParams) { p.Address = "Jl. Margonda (Blok A-1/2)" }, "", ""},
		{"address comma", func(p *AgentParams) { p.Address = "Jalan Margonda, Depok" }, "address", "only letters"},
		{"address accented", func(p *AgentParams) { p.Address = "Jalan Gàjah Mada 10" }, "address", "only letters"},
		{"address missing", func(p *AgentParams) { p.Address = "" }, "address", "required"},
		{"gender missing", func(p *AgentParams) { p.Gender = "" }, "gender", "required"},
		{"gender unknown", func(p *AgentParams) { p.Gender = "x" }, "gender", "male"},
		{"occupation missing", func(p *AgentParams) { p.Occupation = "" }, "occupation", "required"},
		{"occupation unknown", func(p *AgentParams) { p.Occupation = "pilot" }, "occupation", "8 occupations"},
		{"occupation upper case", func(p *AgentParams) { p.Occupation = "ENTREPRENEUR" }, "occupation", "8 occupations"},
		{"phone 0 with 8", func(p *AgentParams) { p.PhoneNumber = "08123456" }, "", ""},
		{"phone 0 with 7", func(p *AgentParams) { p.PhoneNumber = "0812345" }, "phone_number", "8 to 24"},
		{"phone 0 with 24", func(p *AgentParams) { p.PhoneNumber = "0" + strings.Repeat("8", 23) }, "", ""},
		{"phone 0 with 25", func(p *AgentParams) { p.PhoneNumber = "0" + strings.Repeat("8", 24) }, "phone_number", "8 to 24"},
		{"phone + with 10", func(p *AgentParams) { p.PhoneNumber = "+628123456" }, "", ""},
		{"phone + with 9", func(p *AgentParams) { p.PhoneNumber = "+62812345" }, "phone_number", "10 to 26"},
		{"phone + with 26", func(p *AgentParams) { p.PhoneNumber = "+" + strings.Repeat("6", 25) }, "", ""},
		{"phone + with 27", func(p *AgentParams) { p.PhoneNumber = "+" + strings.Repeat("6", 26) }, "phone_number", "10 to 26"},
		{"phone other prefix", func(p *AgentParams) { p.PhoneNumber = "628123456789" }, "phone_number", "start with 0 or +"},
		{"phone with inner spaces is Flip's to judge", func(p *AgentParams) { p.PhoneNumber = "0812 3456 789" }, "", ""},
		{"phone with control char", func(p *AgentParams) { p.PhoneNumber = "0812\x003456789" }, "phone_number", "control"},
		{"phone missing", func(p *AgentParams) { p.PhoneNumber = "" }, "phone_number", "required"},
		{"email optional", func(p *AgentParams) { p.Email = "" }, "", ""},
		{"email bad", func(p *AgentParams) { p.Email = "not-an-email" }, "email", "email address"},
		{"email without dot domain", func(p *AgentParams) { p.Email = "a@localhost" }, "email", "email address"},
		{"email with display name", func(p *AgentParams) { p.Email = "Bob <bob@example.com>" }, "email", "email address"},
		{"residence address 9", func(p *AgentParams) { p.ResidenceAddress = "Jl Raya 1" }, "residence_address", "10 to 300"},
		{"residence address valid", func(p *AgentParams) { p.ResidenceAddress = "Jalan Raya Bogor 12" }, "", ""},
		{"residence id negative", func(p *AgentParams) { p.ResidenceCityID = -5 }, "residence_city_id", "positive"},
		{"name with tab", func(p *AgentParams) { p.Name = "John\tDoe" }, "name", "control"},
		{"name with right-to-left override", func(p *AgentParams) { p.Name = "John\u202eeoD" }, "name", "control"},
		{"name only spaces", func(p *AgentParams) { p.Name = "   " }, "name", "spaces"},
		{"birth place with emoji", func(p *AgentParams) { p.BirthPlace = "Depok 🏙️" }, "", ""},
		{"birth place with newline", func(p *AgentParams) { p.BirthPlace = "Depok\n" }, "birth_place", "control"},
		{"identity number with emoji", func(p *AgentParams) { p.IdentityNumber = strings.Repeat("😀", 17) }, "identity_number", "at most 16"},
		{"identity number leading space", func(p *AgentParams) { p.IdentityNumber = " 123" }, "identity_number", "spaces"},
		{"address right-to-left", func(p *AgentParams) { p.Address = "شارع الملك فهد ١٠" }, "address", "only letters"},
		{"address with control char", func(p *AgentParams) { p.Address = "Jalan Raya\x00 Bogor" }, "address", "only letters"},
		{"address with newline (\\s is allowed by Flip's pattern)", func(p *AgentParams) { p.Address = "Jalan Raya\nBogor 1" }, "", ""},
		{"huge address", func(p *AgentParams) { p.Address = strings.Repeat("a", 1<<20) }, "address", "10 to 300"},
		{"phone of 8 Arabic-Indic characters counts characters, not bytes", func(p *AgentParams) { p.PhoneNumber = "0٨١٢٣٤٥٦" }, "", ""},
		{"phone of 7 Arabic-Indic characters", func(p *AgentParams) { p.PhoneNumber = "0٨١٢٣٤٥" }, "phone_number", "8 to 24"},
		{"phone with trailing space", func(p *AgentParams) { p.PhoneNumber = "08123456789 " }, "phone_number", "spaces"},
		{"phone only +", func(p *AgentParams) { p.PhoneNumber = "+" }, "phone_number", "10 to 26"},
		{"email with unicode", func(p *AgentParams) { p.Email = "jösé@example.com" }, "email", "email address"},
		{"email with space", func(p *AgentParams) { p.Email = "a b@example.com" }, "email", "email address"},
		{"email empty label", func(p *AgentParams) { p.Email = "a@example..com" }, "email", "email address"},
	}
	c, hits := noNetworkClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validAgent()
			tt.edit(&p)
			var v fieldErrors
			p.check(&v)
			if tt.field == "" {
				assert.Empty(t, v)
				return
			}
			_, err := c.CreateAgent(context.Background(), p)
			recordErr(err)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "CreateAgent", ve.Op)
			require.Len(t, ve.Fields, 1, "only the broken field is reported: %v", ve.Fields)
			assert.Equal(t, tt.field, ve.Fields[0].Field)
			assert.Contains(t, ve.Fields[0].Rule, tt.detail)
		})
	}
	assert.Zero(t, hits.Load(), "invalid input must never reach the network")
}

func TestValidationErrorListsEveryFieldWithoutPersonalData(t *testing.T) {
	c, hits := noNetworkClient(t)
	p := validAgent()
	p.IdentityNumber = "12345678901234567890123" // too long: must not be echoed
	p.PhoneNumber = "0812-SECRET-PHONE-NUMBER-TOO-LONG"
	p.Email = "secret.person@@example.com"
	p.Address = "short"
	_, err := c.UpdateAgent(context.Background(), 0, p)
	recordErr(err)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	for _, f := range []string{"agent_id", "identity_number", "phone_number", "email", "address"} {
		assert.True(t, ve.Has(f), f)
	}
	for _, pii := range []string{p.IdentityNumber, "SECRET-PHONE", "secret.person", "short"} {
		assert.NotContains(t, err.Error(), pii)
	}
	assert.Zero(t, hits.Load())
}

func TestRepairDataValidation(t *testing.T) {
	tests := []struct {
		name  string
		p     RepairDataParams
		field string
	}{
		{"nothing set", RepairDataParams{}, "params"},
		{"name only", RepairDataParams{Name: "John Smith"}, ""},
		{"name 51", RepairDataParams{Name: strings.Repeat("a", 51)}, "name"},
		{"ktp number 17", RepairDataParams{IdentityType: IdentityKTP, IdentityNumber: strings.Repeat("1", 17)}, "identity_number"},
		{"number 20 without type", RepairDataParams{IdentityNumber: strings.Repeat("1", 20)}, ""},
		{"number 21 without type", RepairDataParams{IdentityNumber: strings.Repeat("1", 21)}, "identity_number"},
		{"address 9", RepairDataParams{Address: "Jl Raya 1"}, "address"},
		{"gender unknown", RepairDataParams{Gender: "other"}, "gender"},
		{"bad date", RepairDataParams{BirthDate: NewDate(2001, time.February, 29)}, "birth_date"},
		{"phone bad", RepairDataParams{PhoneNumber: "123"}, "phone_number"},
		{"negative id", RepairDataParams{DistrictID: -1}, "district_id"},
		{"use identity address only", RepairDataParams{UseIdentityAddress: Ptr(true)}, ""},
	}
	c, hits := noNetworkClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v fieldErrors
			tt.p.check(&v)
			if tt.field == "" {
				assert.Empty(t, v)
				return
			}
			_, err := c.RepairData(context.Background(), 497, tt.p)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tt.field), "%v", ve.Fields)
		})
	}
	assert.Zero(t, hits.Load())
}

// nonSeeker hides every interface but io.Reader.
type nonSeeker struct{ r io.Reader }

func (n nonSeeker) Read(b []byte) (int, error) { return n.r.Read(b) }

func TestImageRules(t *testing.T) {
	big := make([]byte, MaxImageBytes+1)
	copy(big, jpegImage(t, 300, 300))
	exact := make([]byte, MaxImageBytes)
	copy(exact, jpegImage(t, 300, 300))
	tests := []struct {
		name   string
		img    Image
		detail string // "" = valid
	}{
		{"jpeg 256x256", Image{"a.jpg", bytes.NewReader(jpegImage(t, 256, 256))}, ""},
		{"png 4096x256", Image{"a.png", bytes.NewReader(pngImage(t, 4096, 256))}, ""},
		{"jpeg 255 wide", Image{"a.jpg", bytes.NewReader(jpegImage(t, 255, 300))}, "256 to 4096 pixels"},
		{"png 255 high", Image{"a.png", bytes.NewReader(pngImage(t, 300, 255))}, "256 to 4096 pixels"},
		{"png 4097 wide", Image{"a.png", bytes.NewReader(pngImage(t, 4097, 300))}, "256 to 4096 pixels"},
		{"exactly the limit", Image{"a.jpg", bytes.NewReader(exact)}, ""},
		{"one byte over", Image{"a.jpg", bytes.NewReader(big)}, "must be under 2 MB (2,000,000 bytes at most), is 2,000,001 bytes"},
		{"gif", Image{"a.gif", strings.NewReader("GIF89a\x01\x00\x01\x00")}, "PNG or JPEG"},
		{"text named .jpg", Image{"a.jpg", strings.NewReader("hello, this is not an image")}, "PNG or JPEG"},
		{"empty", Image{"a.jpg", bytes.NewReader(nil)}, "empty"},
		{"nil content", Image{"a.jpg", nil}, "required"},
		{"truncated png header", Image{"a.png", bytes.NewReader(pngImage(t, 300, 300)[:12])}, "unreadable png header"},
		{"non-seekable jpeg", Image{"a.jpg", nonSeeker{bytes.NewReader(jpegImage(t, 300, 300))}}, ""},
	}
	c, hits := noNetworkClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v fieldErrors
			p, err := prepareImage(context.Background(), &v, "image", tt.img, MaxImageBytes)
			require.NoError(t, err)
			if tt.detail == "" {
				assert.Empty(t, v)
				assert.NotNil(t, p)
				return
			}
			require.Len(t, v, 1)
			assert.Equal(t, "image", v[0].Field)
			assert.Contains(t, v[0].Rule, tt.detail)
			// Through the public method too: typed error, nothing sent.
			if tt.img.Content != nil {
				if s, ok := tt.img.Content.(io.Seeker); ok {
					_, _ = s.Seek(0, io.SeekStart)
				}
			}
			_, err = c.UploadIdentityImage(context.Background(), 1, IdentityKTP, tt.img)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
		})
	}
	assert.Zero(t, hits.Load())
}

// Image.Validate checks the same rules as the upload methods, and leaves a
// file where it started.
func TestImageValidate(t *testing.T) {
	good := jpegImage(t, 300, 300)
	r := bytes.NewReader(good)
	require.NoError(t, Image{"a.jpg", r}.Validate())
	assert.Equal(t, int64(len(good)), int64(r.Len()), "rewound")
	for _, img := range []Image{
		{"a.png", strings.NewReader("hello, this is not an image")},
		{"a.png", bytes.NewReader(pngImage(t, 300, 255))},
		{"a.jpg", bytes.NewReader(nil)},
	} {
		err := img.Validate()
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.True(t, ve.Has("image"), "%v", ve.Fields)
	}
}

func TestUploadOfUnknownSizeStopsPastTheLimit(t *testing.T) {
	head := jpegImage(t, 300, 300)
	stream := io.MultiReader(bytes.NewReader(head), bytes.NewReader(make([]byte, MaxImageBytes)))
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		received.Store(n)
		_, _ = w.Write([]byte(`{"image_url":"x"}`))
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, srv.URL)
	_, err := c.UploadIdentityImage(context.Background(), 1, IdentityKTP, Image{Name: "a.jpg", Content: nonSeeker{stream}})
	recordErr(err)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has("image"), "%v", ve.Fields)
}

func TestDocumentsValidation(t *testing.T) {
	c, hits := noNetworkClient(t)
	img := func() Image { return Image{"a.jpg", bytes.NewReader(jpegImage(t, 300, 300))} }
	tests := []struct {
		name  string
		docs  []Document
		field string
	}{
		{"none", nil, "documents"},
		{"unknown type", []Document{{Type: "ktp", Image: img()}}, "documents"},
		{"twice", []Document{{Type: DocumentNPWP, Image: img()}, {Type: DocumentNPWP, Image: img()}}, "npwp"},
		{"bad image", []Document{{Type: DocumentPassport, Selfie: true, Image: Image{"x", strings.NewReader("nope")}}}, "passport_selfie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.UploadDocuments(context.Background(), 497, tt.docs)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.True(t, ve.Has(tt.field), "%v", ve.Fields)
		})
	}
	assert.Zero(t, hits.Load())
}

func TestAgentIDMustBePositive(t *testing.T) {
	c, hits := noNetworkClient(t)
	img := Image{"a.jpg", bytes.NewReader(jpegImage(t, 300, 300))}
	calls := map[string]func() error{
		"GetAgent":    func() error { _, err := c.GetAgent(context.Background(), 0); return err },
		"UpdateAgent": func() error { _, err := c.UpdateAgent(context.Background(), -1, validAgent()); return err },
		"SubmitKYC":   func() error { _, err := c.SubmitKYC(context.Background(), 0); return err },
		"Upload":      func() error { _, err := c.UploadIdentityImage(context.Background(), 0, IdentityKTP, img); return err },
		"RepairData":  func() error { _, err := c.RepairData(context.Background(), 0, RepairDataParams{Name: "A"}); return err },
		"Documents":   func() error { _, err := c.UploadDocuments(context.Background(), 0, nil); return err },
		"Provinces":   func() error { _, err := c.ListProvinces(context.Background(), -3); return err },
	}
	for name, call := range calls {
		var ve *ValidationError
		require.ErrorAs(t, call(), &ve, name)
	}
	assert.Zero(t, hits.Load())
}

// A length rule says a long value's length with its digits grouped, so that
// a program masking long digit runs in what it prints (as the fleet's
// reports do) leaves it readable.
func TestLengthRulesSurviveDigitMasking(t *testing.T) {
	tests := []struct {
		name, value, rule string
		check             func(v *fieldErrors, s string)
	}{
		{"address of 1,000,000", strings.Repeat("a", 1_000_000), "must be 10 to 300 characters, is 1,000,000",
			func(v *fieldErrors, s string) { v.address("address", s, true) }},
		{"address of 301", strings.Repeat("a", 301), "must be 10 to 300 characters, is 301",
			func(v *fieldErrors, s string) { v.address("address", s, true) }},
		{"phone of 123,456 from 0", "0" + strings.Repeat("1", 123_455), "starting with 0 must be 8 to 24 characters, is 123,456",
			func(v *fieldErrors, s string) { v.phone("phone_number", s, true) }},
		{"phone of 1,000,000 from +", "+" + strings.Repeat("1", 999_999), "starting with + must be 10 to 26 characters, is 1,000,000",
			func(v *fieldErrors, s string) { v.phone("phone_number", s, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v fieldErrors
			tt.check(&v, tt.value)
			require.Len(t, v, 1)
			assert.Equal(t, tt.rule, v[0].Rule)
			assert.Equal(t, tt.rule, flipPersonal.Text(v[0].Rule, nil), "left alone by the digit-run masking")
		})
	}
}
