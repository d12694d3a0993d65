package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/flipkyc/flipkyc"
)

// client returns a client configured as flipkyc.NewFromEnv configures one,
// from the invocation's environment: the key from FLIP_SECRET_KEY, the base
// URLs from FLIP_API_BASE_URL and FLIP_KYC_BASE_URL where set, and the
// environment (sandbox, or production with --production) for the others.
// (NewFromEnv itself reads the process environment; reading through getenv
// lets the tests run the command in-process.)
func (e *env) client() (*flipkyc.Client, error) {
	key := e.getenv(flipkyc.EnvSecretKey)
	if key == "" {
		return nil, inputErrorf("%s is not set: export Flip's secret key for the %s (it is never taken from a flag, which shell history would keep)",
			flipkyc.EnvSecretKey, e.environment())
	}
	if strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, inputErrorf("%s contains spaces or control characters", flipkyc.EnvSecretKey)
	}
	e.secrets.add(key)
	c, err := flipkyc.New(key,
		flipkyc.WithEnvironment(e.environment()),
		flipkyc.WithBaseURLs(e.getenv(flipkyc.EnvAPIBaseURL), e.getenv(flipkyc.EnvKYCBaseURL)),
		flipkyc.WithUserAgent("flipkyc-cli"))
	if err != nil {
		return nil, inputErrorf("%s", strings.TrimPrefix(err.Error(), "flipkyc.New: "))
	}
	return c, nil
}

func (e *env) environment() flipkyc.Environment {
	if e.production {
		return flipkyc.Production
	}
	return flipkyc.Sandbox
}

// baseURLs returns the base URLs the client uses, for messages: those of the
// environment unless the variables set others. (The SDK documents them.)
func (e *env) baseURLs() (agents, kyc string) {
	agents, kyc = "https://bigflip.id/big_sandbox_api/v2", "https://api.flip.id/kyc-sandbox/api/v1"
	if e.production {
		agents, kyc = "https://bigflip.id/api/v2", "https://api.flip.id/kyc/api/v1"
	}
	if v := e.getenv(flipkyc.EnvAPIBaseURL); v != "" {
		agents = v
	}
	if v := e.getenv(flipkyc.EnvKYCBaseURL); v != "" {
		kyc = v
	}
	return strings.TrimRight(agents, "/"), strings.TrimRight(kyc, "/")
}

// respond is the call option that records the call's response for the
// error line.
func (e *env) respond() flipkyc.CallOption { return flipkyc.ResponseInto(&e.resp) }

// flipCommand makes a command that talks to Flip: it builds the client, then
// runs do with it.
func flipCommand(c *command, setup func(fs *flag.FlagSet, e *env) func(c *flipkyc.Client, args []string) error) *command {
	c.flip = true
	c.setup = func(fs *flag.FlagSet, e *env) func([]string) error {
		do := setup(fs, e)
		return func(args []string) error {
			client, err := e.client()
			if err != nil {
				return err
			}
			return do(client, args)
		}
	}
	return c
}

var agentGetCommand = flipCommand(&command{
	path: "agent get", args: "ID",
	summary: "show an agent's data and KYC status",
	help: `Shows an agent's identity data, KYC status and, after a rejection, the code,
Flip's reason and the command that fixes it. The table shows the agent's
personal data, which is what this command is for; errors never do.`,
	examples: []string{"flipkyc agent get 1001", "flipkyc agent get 1001 --json | jq -r .kyc_status"},
}, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
	return func(c *flipkyc.Client, args []string) error {
		if err := needArgs(args, "ID"); err != nil {
			return err
		}
		id, err := parseID("ID", args[0])
		if err != nil {
			return err
		}
		a, err := c.GetAgent(e.ctx, id, e.respond())
		if err != nil {
			return err
		}
		e.printAgent(a)
		return nil
	}
})

var agentCreateCommand = flipCommand(&command{
	path:    "agent create",
	summary: "register an agent (POST /v2/agents)",
	help: `Registers an agent with Flip. Give every required field as a flag, or as a
JSON object with Flip's field names (--from-json FILE, or - for stdin), which
keeps personal data out of shell history; flags given too win. Every field is
checked against Flip's rules before anything is sent, and every broken rule
is listed (exit status 2).`,
	examples: []string{
		`flipkyc agent create --from-json agent.json`,
		`flipkyc agent create --name "John Doe" --identity-type ktp --identity-number 3201234567890001 \
      --birth-date 31-10-1990 --birth-place "Kota Depok" --gender male --occupation entrepreneur \
      --country-id 1 --province-id 12 --city-id 184 --district-id 1234 \
      --address "Jalan Margonda Raya 1" --phone 081234567890`,
	},
}, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
	var in agentInput
	in.register(fs, false)
	return func(c *flipkyc.Client, args []string) error {
		if err := needArgs(args); err != nil {
			return err
		}
		p, err := in.agentParams(e.stdin, "CreateAgent")
		if err != nil {
			return err
		}
		a, err := c.CreateAgent(e.ctx, p, e.respond())
		if err != nil {
			return err
		}
		e.printAgent(a)
		return nil
	}
})

var agentUpdateCommand = flipCommand(&command{
	path: "agent update", args: "ID",
	summary: "replace an agent's data (PUT /v2/agents/{id})",
	help: `Replaces an agent's identity data. Flip has no partial update: give every
required field, changed or not. The JSON that "agent create --json" printed
is a complete input: edit it and pass it with --from-json.`,
	examples: []string{
		`flipkyc agent update 1001 --from-json agent.json --address "Jalan Margonda Raya 2"`,
	},
}, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
	var in agentInput
	in.register(fs, false)
	return func(c *flipkyc.Client, args []string) error {
		if err := needArgs(args, "ID"); err != nil {
			return err
		}
		id, err := parseID("ID", args[0])
		if err != nil {
			return err
		}
		p, err := in.agentParams(e.stdin, "UpdateAgent")
		if err != nil {
			return err
		}
		a, err := c.UpdateAgent(e.ctx, id, p, e.respond())
		if err != nil {
			return err
		}
		e.printAgent(a)
		return nil
	}
})

// imageCommand makes a command that sends one image of an agent.
func imageCommand(c *command, withType bool, send func(e *env, cl *flipkyc.Client, id int64, t flipkyc.IdentityType, img flipkyc.Image) (*flipkyc.UploadResult, error)) *command {
	c.args = "ID FILE"
	return flipCommand(c, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
		idType := new(string)
		if withType {
			idType = fs.String("type", "ktp", "the agent's identity type: ktp or passport")
		}
		return func(cl *flipkyc.Client, args []string) error {
			if err := needArgs(args, "ID", "FILE"); err != nil {
				return err
			}
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			img, done, err := openImage(args[1])
			if err != nil {
				return err
			}
			defer done()
			res, err := send(e, cl, id, identityType(*idType), img)
			if err != nil {
				return err
			}
			e.printUpload(id, res)
			return nil
		}
	})
}

const imageRules = "The image must be a PNG or JPEG photo under 2 MB, 256 to 4096 pixels a side; it is checked before anything is sent."

var uploadIdentityCommand = imageCommand(&command{
	path:    "upload identity",
	summary: "upload the identity card photo (step 1 of 2)",
	help: `Uploads the photo of the agent's identity card (PUT /users/{id}/identities,
selfie=0), in status BASIC_DATA. ` + imageRules + `
Flip counts uploads; a failed upload whose outcome is unknown is not repeated
(read the agent first).`,
	examples: []string{"flipkyc upload identity 1001 ktp.jpg", "flipkyc upload identity 1002 passport.jpg --type passport"},
}, true, func(e *env, c *flipkyc.Client, id int64, t flipkyc.IdentityType, img flipkyc.Image) (*flipkyc.UploadResult, error) {
	return c.UploadIdentityImage(e.ctx, id, t, img, e.respond())
})

var uploadSelfieCommand = imageCommand(&command{
	path:    "upload selfie",
	summary: "upload the selfie holding the identity card (step 2 of 2)",
	help: `Uploads the selfie of the agent holding the identity card (PUT
/users/{id}/identities, selfie=1), after the identity photo. ` + imageRules + `
Flip then checks both images and sends a callback:
UPLOAD_IDENTITY_SELFIE_SUCCESS (submit next) or UPLOAD_IDENTITY_SELFIE_FAILED.`,
	examples: []string{"flipkyc upload selfie 1001 selfie.jpg"},
}, true, func(e *env, c *flipkyc.Client, id int64, t flipkyc.IdentityType, img flipkyc.Image) (*flipkyc.UploadResult, error) {
	return c.UploadSelfieWithIdentity(e.ctx, id, t, img, e.respond())
})

var repairPhotoCommand = imageCommand(&command{
	path:    "repair photo",
	summary: "send a new identity card photo after rejection codes 14-21",
	help: `Sends a new photo of the identity card after a rejection with code 14 to 21
(PUT /users/{id}/repairPhoto); the agent goes under review again. ` + imageRules,
	examples: []string{"flipkyc repair photo 1001 ktp-sharp.jpg"},
}, false, func(e *env, c *flipkyc.Client, id int64, _ flipkyc.IdentityType, img flipkyc.Image) (*flipkyc.UploadResult, error) {
	return c.RepairIdentityImage(e.ctx, id, img, e.respond())
})

var repairSelfieCommand = imageCommand(&command{
	path:    "repair selfie",
	summary: "send a new selfie after rejection codes 23-27",
	help: `Sends a new selfie holding the identity card after a rejection with code 23
to 27 (PUT /users/{id}/repairSelfie); the agent goes under review again. ` + imageRules,
	examples: []string{"flipkyc repair selfie 1001 selfie-again.jpg"},
}, false, func(e *env, c *flipkyc.Client, id int64, _ flipkyc.IdentityType, img flipkyc.Image) (*flipkyc.UploadResult, error) {
	return c.RepairSelfieWithIdentity(e.ctx, id, img, e.respond())
})

var repairDataCommand = flipCommand(&command{
	path: "repair data", args: "ID",
	summary: "correct identity data after rejection code 10",
	help: `Sends corrected identity data after a rejection with code 10 (PUT
/users/{id}/repair); only the fields given are sent, at least one. Fields as
for "agent create" (no e-mail), as flags or --from-json.`,
	examples: []string{`flipkyc repair data 1001 --name "John Smith"`, `echo '{"name":"John Smith"}' | flipkyc repair data 1001 --from-json -`},
}, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
	var in agentInput
	in.register(fs, true)
	return func(c *flipkyc.Client, args []string) error {
		if err := needArgs(args, "ID"); err != nil {
			return err
		}
		id, err := parseID("ID", args[0])
		if err != nil {
			return err
		}
		p, err := in.repairParams(e.stdin)
		if err != nil {
			return err
		}
		u, err := c.RepairData(e.ctx, id, p, e.respond())
		if err != nil {
			return err
		}
		e.printKYCUser(id, u)
		return nil
	}
})

var submitCommand = flipCommand(&command{
	path: "submit", args: "ID",
	summary: "hand the agent to Flip for review",
	help: `Submits the agent's data and images for review (PUT /users/{id}/submit), in
status UPLOAD_IDENTITY_SELFIE_SUCCESS. The agent goes to PENDING; the verdict,
APPROVED or REJECTED, arrives by callback (or read it with "agent get"). A
submission whose reply was lost is confirmed by reading the agent, never sent
twice.`,
	examples: []string{"flipkyc submit 1001"},
}, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
	return func(c *flipkyc.Client, args []string) error {
		if err := needArgs(args, "ID"); err != nil {
			return err
		}
		id, err := parseID("ID", args[0])
		if err != nil {
			return err
		}
		res, err := c.SubmitKYC(e.ctx, id, e.respond())
		if err != nil {
			return err
		}
		if e.json {
			writeJSON(e.stdout, struct {
				AgentID         int64  `json:"agent_id"`
				Message         string `json:"message"`
				ConfirmedByRead bool   `json:"confirmed_by_read"`
				RequestID       string `json:"request_id"`
			}{id, res.Message, res.ConfirmedByRead, e.resp.RequestID})
			return nil
		}
		msg := res.Message
		if res.ConfirmedByRead {
			msg = "the reply was lost; reading the agent confirmed it is under review"
		}
		fmt.Fprintf(e.stdout, "submitted agent %d: %s [Request-ID %s]\n", id, msg, e.resp.RequestID)
		return nil
	}
})

// docList is a repeatable TYPE=FILE flag.
type docList struct {
	docs   *[]docFile
	selfie bool
}

type docFile struct {
	typ    flipkyc.DocumentType
	path   string
	selfie bool
}

func (d docList) String() string { return "" }
func (d docList) Set(v string) error {
	typ, path, ok := strings.Cut(v, "=")
	if !ok || path == "" {
		return fmt.Errorf("want TYPE=FILE")
	}
	t := flipkyc.DocumentType(strings.ToLower(typ))
	if !t.Known() {
		return fmt.Errorf("unknown document type; want one of %s", strings.Join(documentTypes(), ", "))
	}
	*d.docs = append(*d.docs, docFile{typ: t, path: path, selfie: d.selfie})
	return nil
}

func documentTypes() []string {
	return []string{string(flipkyc.DocumentFamilyCard), string(flipkyc.DocumentNPWP), string(flipkyc.DocumentBPJSKesehatan),
		string(flipkyc.DocumentPassport), string(flipkyc.DocumentDrivingLicense), string(flipkyc.DocumentStudentCard),
		string(flipkyc.DocumentEmployeeCard), string(flipkyc.DocumentLastCertificate), string(flipkyc.DocumentMarriedCard)}
}

var documentsCommand = flipCommand(&command{
	path: "documents", args: "ID",
	summary: "upload supporting documents (POST /documents)",
	help: `Uploads supporting documents for an agent that Flip rejected (codes 11, 13,
17, 21, 31-33) or whose selfie check failed; the agent goes under review
again. Each --doc is the document itself, each --selfie the agent holding it.
Types: ` + strings.Join(documentTypes(), ", ") + ".",
	examples: []string{"flipkyc documents 1001 --doc family_card=kk.jpg --selfie family_card=kk-selfie.jpg"},
}, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
	var files []docFile
	fs.Var(docList{&files, false}, "doc", "a document, TYPE=FILE (repeatable)")
	fs.Var(docList{&files, true}, "selfie", "a selfie holding a document, TYPE=FILE (repeatable)")
	return func(c *flipkyc.Client, args []string) error {
		if err := needArgs(args, "ID"); err != nil {
			return err
		}
		id, err := parseID("ID", args[0])
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return usagef("give at least one --doc TYPE=FILE or --selfie TYPE=FILE")
		}
		docs := make([]flipkyc.Document, 0, len(files))
		for _, f := range files {
			img, done, err := openImage(f.path)
			if err != nil {
				return err
			}
			defer done()
			docs = append(docs, flipkyc.Document{Type: f.typ, Selfie: f.selfie, Image: img})
		}
		got, err := c.UploadDocuments(e.ctx, id, docs, e.respond())
		if err != nil {
			return err
		}
		if e.json {
			if got == nil {
				got = []flipkyc.UploadedDocument{}
			}
			writeJSON(e.stdout, got)
			return nil
		}
		t := table(e.stdout)
		fmt.Fprintln(t, "ID\tTYPE\tSELFIE\tPATH")
		for _, d := range got {
			fmt.Fprintf(t, "%d\t%d\t%t\t%s\n", d.ID, d.Type, d.Selfie, d.Path)
		}
		_ = t.Flush()
		fmt.Fprintf(e.stdout, "uploaded %d documents for agent %d [Request-ID %s]\n", len(got), id, e.resp.RequestID)
		return nil
	}
})

// locationCommand makes one of the location look-ups.
func locationCommand(kind, parent, example string, list func(e *env, c *flipkyc.Client, parentID int64) ([]flipkyc.Location, error)) *command {
	c := &command{
		path:     "locations " + kind,
		summary:  "list " + kind + " (GET /" + kind + ")",
		help:     "Lists the " + kind + " Flip knows, with the ids the agent's location fields take.",
		examples: []string{"flipkyc locations " + kind + example},
	}
	if parent != "" {
		c.args = "[" + strings.ToUpper(parent) + "_ID]"
		c.summary = "list the " + kind + " of a " + parent + " (GET /" + kind + ")"
		c.help = "Lists the " + kind + " of a " + parent + " (all of them without " + strings.ToUpper(parent) +
			"_ID), with the ids the agent's location fields take."
	}
	return flipCommand(c, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
		return func(cl *flipkyc.Client, args []string) error {
			var parentID int64
			switch {
			case parent == "":
				if err := needArgs(args); err != nil {
					return err
				}
			case len(args) > 1:
				return usagef("too many arguments (want [%s_ID])", strings.ToUpper(parent))
			case len(args) == 1:
				id, err := parseID(strings.ToUpper(parent)+"_ID", args[0])
				if err != nil {
					return err
				}
				parentID = id
			}
			locs, err := list(e, cl, parentID)
			if err != nil {
				return err
			}
			if e.json {
				if locs == nil {
					locs = []flipkyc.Location{}
				}
				writeJSON(e.stdout, locs)
				return nil
			}
			t := table(e.stdout)
			fmt.Fprintln(t, "ID\tNAME")
			for _, l := range locs {
				fmt.Fprintf(t, "%d\t%s\n", l.ID, l.Name)
			}
			return t.Flush()
		}
	})
}

var (
	locationsCountriesCommand = locationCommand("countries", "", "", func(e *env, c *flipkyc.Client, _ int64) ([]flipkyc.Location, error) {
		return c.ListCountries(e.ctx, e.respond())
	})
	locationsProvincesCommand = locationCommand("provinces", "country", " 1", func(e *env, c *flipkyc.Client, id int64) ([]flipkyc.Location, error) {
		return c.ListProvinces(e.ctx, id, e.respond())
	})
	locationsCitiesCommand = locationCommand("cities", "province", " 12", func(e *env, c *flipkyc.Client, id int64) ([]flipkyc.Location, error) {
		return c.ListCities(e.ctx, id, e.respond())
	})
	locationsDistrictsCommand = locationCommand("districts", "city", " 184 --json", func(e *env, c *flipkyc.Client, id int64) ([]flipkyc.Location, error) {
		return c.ListDistricts(e.ctx, id, e.respond())
	})
)

// printAgent prints an agent: its JSON form, or a table of its fields.
func (e *env) printAgent(a *flipkyc.Agent) {
	if e.json {
		writeJSON(e.stdout, a)
		return
	}
	t := table(e.stdout)
	row := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			fmt.Fprintf(t, "%s\t%s\n", label, value)
		}
	}
	row("ID", strconv.FormatInt(a.ID, 10))
	row("KYC status", string(a.KYCStatus))
	if a.RejectedReasonCode != 0 {
		row("Rejected", a.RejectedReasonCode.String()+" "+firstNonEmpty(a.RejectedReason, a.RejectedReasonCode.Message()))
		row("Fix", fixHint(a.ID, a.RejectedReasonCode))
	}
	row("Account", string(a.Status))
	row("Name", a.Name)
	row("Identity", strings.TrimSpace(string(a.IdentityType)+" "+a.IdentityNumber))
	if !a.BirthDate.IsZero() || a.BirthDate.Raw != "" || a.BirthPlace != "" {
		row("Born", strings.TrimSpace(strings.Trim(a.BirthDate.String(), " ")+" "+a.BirthPlace))
	}
	row("Gender", string(a.Gender))
	row("Occupation", string(a.Occupation))
	row("Phone", a.PhoneNumber)
	row("E-mail", a.Email)
	row("Address", a.Address)
	row("Location", places(a.DistrictName, a.DistrictID, a.CityName, a.CityID, a.ProvinceName, a.ProvinceID, a.CountryName, a.CountryID))
	row("Residence", a.ResidenceAddress)
	row("Residence location", places(a.ResidenceDistrictName, a.ResidenceDistrictID, a.ResidenceCityName, a.ResidenceCityID,
		a.ResidenceProvinceName, a.ResidenceProvinceID, a.ResidenceCountryName, a.ResidenceCountryID))
	if !a.CreatedAt.IsZero() || a.CreatedAt.Raw != "" {
		text, _ := a.CreatedAt.MarshalText()
		row("Created", string(text))
	}
	row("Request-ID", e.resp.RequestID)
	_ = t.Flush()
}

// places writes location names with their ids, smallest first.
func places(pairs ...any) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		name, id := pairs[i].(string), pairs[i+1].(int64)
		switch {
		case id != 0 && name != "":
			parts = append(parts, fmt.Sprintf("%s (%d)", name, id))
		case id != 0:
			parts = append(parts, strconv.FormatInt(id, 10))
		}
	}
	return strings.Join(parts, ", ")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// fixHint says which command answers a rejection code.
func fixHint(id int64, code flipkyc.RejectionCode) string {
	var hints []string
	for _, f := range code.Fixes() {
		switch f {
		case flipkyc.FixRepairData:
			hints = append(hints, fmt.Sprintf("flipkyc repair data %d --FIELD VALUE", id))
		case flipkyc.FixRepairIdentityImage:
			hints = append(hints, fmt.Sprintf("flipkyc repair photo %d FILE", id))
		case flipkyc.FixRepairSelfie:
			hints = append(hints, fmt.Sprintf("flipkyc repair selfie %d FILE", id))
		case flipkyc.FixSupportingDocuments:
			hints = append(hints, fmt.Sprintf("flipkyc documents %d --doc TYPE=FILE", id))
		case flipkyc.FixContactFlip:
			hints = append(hints, "contact Flip's CX team")
		case flipkyc.FixNone:
			hints = append(hints, "none (treated as fraud)")
		}
	}
	return strings.Join(hints, ", or ")
}

// printUpload prints the result of an image upload or repair.
func (e *env) printUpload(id int64, res *flipkyc.UploadResult) {
	if e.json {
		writeJSON(e.stdout, struct {
			AgentID         int64  `json:"agent_id"`
			ImageURL        string `json:"image_url"`
			ConfirmedByRead bool   `json:"confirmed_by_read"`
			RequestID       string `json:"request_id"`
		}{id, res.ImageURL, res.ConfirmedByRead, e.resp.RequestID})
		return
	}
	if res.ConfirmedByRead {
		fmt.Fprintf(e.stdout, "agent %d: the reply was lost; reading the agent confirmed it is under review [Request-ID %s]\n", id, e.resp.RequestID)
		return
	}
	fmt.Fprintf(e.stdout, "agent %d: image stored at %s [Request-ID %s]\n", id, res.ImageURL, e.resp.RequestID)
}

// printKYCUser prints the KYC record that repair data returns.
func (e *env) printKYCUser(id int64, u *flipkyc.KYCUser) {
	if e.json {
		writeJSON(e.stdout, struct {
			*flipkyc.KYCUser
			ConfirmedByRead bool   `json:"confirmed_by_read"`
			RequestID       string `json:"request_id"`
		}{u, u.ConfirmedByRead, e.resp.RequestID})
		return
	}
	t := table(e.stdout)
	row := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			fmt.Fprintf(t, "%s\t%s\n", label, value)
		}
	}
	row("ID", strconv.FormatInt(id, 10))
	row("KYC status", string(u.Status))
	if u.ConfirmedByRead {
		row("Note", "the reply was lost; reading the agent confirmed the repair")
	}
	row("Name", u.Name)
	row("Identity", strings.TrimSpace(string(u.IdentityType)+" "+firstNonEmpty(u.NIK, u.PassportNumber)))
	row("Request-ID", e.resp.RequestID)
	_ = t.Flush()
}
