package fleet

import (
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flipkyc/flipkyc"
)

// Columns of the onboarding CSV, in any order, named in its header line.
// Required: name, identity_type, identity_number, birth_date, birth_place,
// gender, occupation, province_id, city_id, district_id, address,
// phone_number, identity_image, selfie_image. Optional: email and
// country_id (Indonesia when empty). Each location may be given by name
// instead, in the column of LocationNameColumns (province, city, district,
// country) as written on the identity card; Locations.Resolve turns the
// names into Flip's ids and checks every row's ids against Flip's lists.
// A location given both by id and by name is a bad row.
//
// identity_image and selfie_image are file names inside the images
// directory (by default the CSV's own directory), relative to it: an
// absolute path, a '..' that leaves it, or a symbolic link that points out
// of it is a bad row, and so is a file that is not a PNG or JPEG meeting
// Flip's image rules (flipkyc.Image.Validate). The identity number is
// the row's key: a run keeps one agent per identity number, so re-running
// the same CSV resumes it instead of creating anyone twice. Two rows with
// the same identity number, or the same phone number, make the later row
// bad.
var Columns = []string{
	"name", "identity_type", "identity_number", "birth_date", "birth_place", "gender", "occupation",
	"country_id", "province_id", "city_id", "district_id", "address", "phone_number", "email",
	"identity_image", "selfie_image",
}

// LocationNameColumns are the columns that name a row's locations instead
// of giving their ids (see Columns and Locations.Resolve), in the order of
// Flip's levels: country, province, city, district.
var LocationNameColumns = []string{"country", "province", "city", "district"}

// RepairColumns are the columns of a repair CSV: identity_number (the key,
// required) and whatever the rejection calls for: any of the data columns
// of Columns (code 10), identity_image (codes 14-21), selfie_image (codes
// 23-27) or documents ("family_card=kk.jpg;npwp=npwp.jpg", codes 11, 13,
// 17, 21, 31-33, and an upload check that failed). For an agent parked
// because its create's outcome was unknown or Flip answered that it is
// already registered (2002), a row gives agent_id alone: the id Flip has
// for it (see Repair.AgentID); for an agent whose create's outcome was
// unknown and that Flip confirmed it never created, a row gives
// not_created alone: the Request-ID of that create (see
// Repair.NotCreated). For an agent created at Flip and parked at its
// uploads (WayOutRepair), a row gives identity_image, selfie_image and/or
// data columns (see Fleet.Repair).
var RepairColumns = append(append([]string{}, Columns...), "documents", "agent_id", "not_created")

// Row is one agent of the onboarding CSV.
type Row struct {
	// Line is the row's line in the CSV, the header being line 1.
	Line int `json:"line"`
	// Params is the agent to create.
	Params flipkyc.AgentParams `json:"params"`
	// IdentityImage and SelfieImage are the absolute paths of the photos.
	IdentityImage string `json:"identity_image"`
	SelfieImage   string `json:"selfie_image"`
	// Images is the images directory (an absolute path): the photos are
	// read inside it only, so a symbolic link changed since the CSV was
	// checked cannot lead out of it.
	Images string `json:"images,omitempty"`
	// Places are the locations the row names instead of giving their ids;
	// Locations.Resolve sets the ids of Params from them. They are not
	// stored with the agent.
	Places PlaceNames `json:"-"`
}

// PlaceNames are a row's locations by name, as the CSV writes them ("Jawa
// Barat", "Kota Depok", "Sukmajaya"); an empty name was not given.
type PlaceNames struct {
	Country, Province, City, District string
}

// RowError is a row that cannot be onboarded: its line, the field and the
// rule it breaks. The value itself is never repeated (it is personal data).
type RowError struct {
	Line  int    // the CSV line, the header being line 1
	Field string // the column
	Rule  string // what the value must be
}

// Error says "line N: field: rule".
func (e RowError) Error() string { return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Rule) }

// ReadCSV reads a whole onboarding CSV (see CSVReader, which reads it a
// batch at a time). Good rows are returned in order; every bad row gives
// one RowError per broken rule and does not stop the others. A file that
// cannot be read at all (no header, a missing column) is an error.
func ReadCSV(r io.Reader, imagesDir string) ([]Row, []RowError, error) {
	c, err := NewCSVReader(r, imagesDir)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	var rows []Row
	var bad []RowError
	for {
		good, errs, err := c.Next(csvBatch)
		if errors.Is(err, io.EOF) {
			return rows, bad, nil
		}
		if err != nil {
			return nil, nil, err
		}
		rows, bad = append(rows, good...), append(bad, errs...)
	}
}

// csvBatch is how many CSV rows ReadCSV reads at a time.
const csvBatch = 200

// CSVReader reads an onboarding CSV a batch of rows at a time, so that
// what reads it does not grow with the CSV: besides the batch, it keeps
// two 8-byte digests per good row (of its identity number and phone
// number, under a random key of its own, never stored) to find the rows
// that repeat an earlier one.
type CSVReader struct {
	recs      *recordReader
	header    []RowError // the header's notes (HeaderNotes)
	images    *imagesDir
	seed      maphash.Seed
	seenID    map[uint64]int32 // digest -> line
	seenPhone map[uint64]int32
	rows      int
	// badPlaces are the rows of the last Next that broke a rule but whose
	// locations can still be checked (BadRowPlaces).
	badPlaces []Row
}

// NewCSVReader reads the CSV's header line, in which every required column
// must be named (each location by id or by name), and opens the images
// directory.
func NewCSVReader(r io.Reader, imagesDir string) (*CSVReader, error) {
	recs, err := newRecordReader(r, requiredColumns)
	if err != nil {
		return nil, err
	}
	images, err := openImages(imagesDir)
	if err != nil {
		return nil, err
	}
	return &CSVReader{recs: recs, header: unknownColumns(recs.names, recs.headerLine), images: images, seed: maphash.MakeSeed(),
		seenID: map[uint64]int32{}, seenPhone: map[uint64]int32{}}, nil
}

// requiredColumns are the columns an onboarding CSV must have; "a or b":
// one of the two (a location by id or by name).
var requiredColumns = []string{"name", "identity_type", "identity_number", "birth_date", "birth_place",
	"gender", "occupation", "province_id or province", "city_id or city", "district_id or district",
	"address", "phone_number", "identity_image", "selfie_image"}

// knownColumns are the columns onboard reads: Columns and the locations by
// name.
var knownColumns = append(slices.Clone(Columns), LocationNameColumns...)

// optionalColumns are the columns a row may leave out at its end.
var optionalColumns = []string{"email", "country_id", "country"}

// HeaderNotes returns a note (on the header's line) for each column of the header that
// onboard does not read, and ignores: by its position ("column 16"), for
// its heading is not printed (a row joined to the header line would put an
// agent's data there), with the column it is likely a misspelling of.
func (c *CSVReader) HeaderNotes() []RowError { return c.header }

// unknownColumns is HeaderNotes of the header's names (by column), on line.
func unknownColumns(names []string, line int) []RowError {
	var notes []RowError
	for i, name := range names {
		if name == "" || slices.Contains(knownColumns, name) {
			continue
		}
		rule := "not a column onboard reads: ignored"
		best, dist := "", 3 // a misspelling: at most 2 letters off
		for _, k := range knownColumns {
			if d := editDistance(name, k); d < dist {
				best, dist = k, d
			}
		}
		if best != "" {
			rule += fmt.Sprintf("; is it %s misspelt?", best)
		}
		notes = append(notes, RowError{line, fmt.Sprintf("column %d", i+1), rule})
	}
	return notes
}

// Close closes the images directory.
func (c *CSVReader) Close() error { return c.images.root.Close() }

// Rows is how many rows Next has read so far, good and bad.
func (c *CSVReader) Rows() int { return c.rows }

// Next reads up to n more rows and returns the good ones in order and one
// RowError per rule each bad one breaks; io.EOF when no row is left. A
// line the CSV reader cannot parse is a bad row (field "row", naming the
// byte in it). A failed read is an error: the rows read before it in the
// batch are returned with it.
func (c *CSVReader) Next(n int) ([]Row, []RowError, error) {
	var rows []Row
	var bad []RowError
	c.badPlaces = c.badPlaces[:0]
	for read := 0; read < n; read++ {
		rec, err := c.recs.next()
		if errors.Is(err, io.EOF) {
			if read == 0 {
				return nil, nil, io.EOF
			}
			break
		}
		var le *lineError
		if errors.As(err, &le) {
			c.rows++
			bad = append(bad, le.rowError())
			continue
		}
		if err != nil {
			return rows, bad, err
		}
		c.rows++
		row, errs := c.row(rec)
		if len(errs) > 0 {
			bad = append(bad, errs...)
			// Not a row whose fields could not be told apart, nor one
			// whose location columns are bad.
			if !slices.ContainsFunc(errs, func(e RowError) bool { return e.Field == "row" || slices.Contains(locationColumns, e.Field) }) {
				c.badPlaces = append(c.badPlaces, row)
			}
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

// BadRowPlaces returns the rows of the last Next that broke a rule in
// columns other than their locations', so that their locations can be
// checked too (Locations.Resolve) and a row's every problem found at once.
func (c *CSVReader) BadRowPlaces() []Row { return c.badPlaces }

// locationColumns are the columns that give a row's locations, by id or
// by name.
var locationColumns = append(append([]string{}, locationIDColumns...), "country", "province", "city", "district")

// row reads one record.
func (c *CSVReader) row(rec record) (Row, []RowError) {
	if e, ok := c.recs.fieldCount(rec); !ok {
		return Row{Line: rec.line}, []RowError{e}
	}
	vals := rec.values(c.recs.header)
	p, errs := parseParams(rec.line, vals, false)
	row := Row{Line: rec.line, Params: p, Images: c.images.path,
		Places: PlaceNames{Country: vals["country"], Province: vals["province"], City: vals["city"], District: vals["district"]}}
	for _, f := range []struct {
		col string
		dst *string
	}{{"identity_image", &row.IdentityImage}, {"selfie_image", &row.SelfieImage}} {
		path, e := c.images.check(vals[f.col])
		if e != "" {
			errs = append(errs, RowError{rec.line, f.col, e})
		}
		*f.dst = path
	}
	id, phone := c.digest(p.IdentityNumber), c.digest(phoneAsFlipStores(p.PhoneNumber))
	if first, ok := c.seenID[id]; ok && p.IdentityNumber != "" {
		errs = append(errs, RowError{rec.line, "identity_number", fmt.Sprintf("the same as line %d's: one agent per identity number", first)})
	}
	if first, ok := c.seenPhone[phone]; ok && p.PhoneNumber != "" {
		errs = append(errs, RowError{rec.line, "phone_number", fmt.Sprintf("the same as line %d's: Flip registers a phone number once", first)})
	}
	// A bad row's numbers count too: a later row with one of them is the
	// same agent or phone, whichever row gets corrected.
	if _, ok := c.seenID[id]; !ok && p.IdentityNumber != "" {
		c.seenID[id] = int32(rec.line)
	}
	if _, ok := c.seenPhone[phone]; !ok && p.PhoneNumber != "" {
		c.seenPhone[phone] = int32(rec.line)
	}
	return row, errs
}

// phoneAsFlipStores is a phone number as Flip registers it: a local 0…
// number as +62…, so that 08… and +628… are found to be the same number,
// and without the spaces, dashes, dots and brackets people write in it.
func phoneAsFlipStores(n string) string {
	n = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -.()", r) {
			return -1
		}
		return r
	}, n)
	if rest, ok := strings.CutPrefix(n, "0"); ok {
		return "+62" + rest
	}
	return n
}

// digest is a 64-bit keyed hash of v: two values with the same digest
// are, but for a chance of 2^-64 per pair (about 1 in 3.7 billion for a
// CSV of 100,000 rows), the same.
func (c *CSVReader) digest(v string) uint64 { return maphash.String(c.seed, v) }

// Repair is one correction from a repair CSV.
type Repair struct {
	// Line is the row's line in the repair CSV.
	Line int `json:"line"`
	// IdentityNumber names the agent of the run to correct.
	IdentityNumber string `json:"identity_number"`
	// AgentLine, when not zero, names the agent to correct by its line in
	// the run's onboarding CSV instead of IdentityNumber (the console).
	AgentLine int `json:"agent_line,omitempty"`
	// Data corrects name, identity number or phone (RepairData).
	Data *flipkyc.RepairDataParams `json:"data,omitempty"`
	// IdentityImage and SelfieImage are new photos (absolute paths).
	IdentityImage string `json:"identity_image,omitempty"`
	SelfieImage   string `json:"selfie_image,omitempty"`
	// IdentityImageData and SelfieImageData are new photos given as bytes
	// (a browser's upload) instead of files: checked with
	// flipkyc.Image.Validate, kept sealed in the run with the correction
	// until sent, then dropped.
	IdentityImageData []byte `json:"identity_image_data,omitempty"`
	SelfieImageData   []byte `json:"selfie_image_data,omitempty"`
	// Images is the images directory (an absolute path) the photos and
	// documents are read inside.
	Images string `json:"images,omitempty"`
	// Documents are supporting documents to send.
	Documents []DocumentFile `json:"documents,omitempty"`
	// AgentID, given alone, resumes an agent parked at its create (the
	// outcome was unknown, or Flip answered 2002): it is the id Flip has
	// for the agent, which a person found (Flip's support, the dashboard).
	// Fleet.Repair checks it with Flip (the agent's identity number must
	// be the row's), records it, and the agent goes on from where Flip
	// has it (uploads, for a new agent) without being created again.
	AgentID int64 `json:"agent_id,omitempty"`
	// NotCreated, given alone, creates again an agent parked at its create
	// that Flip never created: it is the Request-ID of the agent's last
	// create (shown by status), after Flip confirmed that no agent was
	// created with it. Fleet.Repair accepts it only for an agent parked
	// without an agent id whose last create had that Request-ID; the run
	// then creates the agent under a new Request-ID. A create is never
	// sent again without it.
	NotCreated string `json:"not_created,omitempty"`
}

// requestIDPattern is the form of the Request-IDs the run sends.
var requestIDPattern = regexp.MustCompile(`^bigflip-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// DocumentFile is a supporting document named in a repair CSV.
type DocumentFile struct {
	// Type is the document's kind.
	Type flipkyc.DocumentType `json:"type"`
	// Selfie marks a photo of the agent holding the document.
	Selfie bool `json:"selfie,omitempty"`
	// Path is the file's absolute path.
	Path string `json:"path"`
	// Data is the document's image given as bytes instead of Path (a
	// browser's upload): kept sealed in the run until sent, then dropped.
	Data []byte `json:"data,omitempty"`
}

// ReadRepairCSV reads a repair CSV (see RepairColumns).
func ReadRepairCSV(r io.Reader, imagesDir string) ([]Repair, []RowError, error) {
	recs, header, err := readRecords(r, []string{"identity_number"})
	if err != nil {
		return nil, nil, err
	}
	images, err := openImages(imagesDir)
	if err != nil {
		return nil, nil, err
	}
	defer images.root.Close()
	var out []Repair
	var bad []RowError
	for _, rec := range recs {
		vals := rec.values(header)
		rp := Repair{Line: rec.line, IdentityNumber: strings.TrimSpace(vals["identity_number"]), Images: images.path}
		var errs []RowError
		switch {
		case rp.IdentityNumber == "":
			errs = append(errs, RowError{rec.line, "identity_number", "required: it names the agent to repair"})
		case scientificNotation.MatchString(rp.IdentityNumber):
			errs = append(errs, RowError{rec.line, "identity_number", ruleScientificNotation})
		}
		data := map[string]string{}
		for _, c := range Columns {
			if c != "identity_number" && c != "identity_image" && c != "selfie_image" && vals[c] != "" {
				data[c] = vals[c]
			}
		}
		if len(data) > 0 {
			p, e := parseParams(rec.line, data, true)
			errs = append(errs, e...)
			d := flipkyc.RepairDataParams{Name: p.Name, IdentityType: p.IdentityType, BirthDate: p.BirthDate,
				BirthPlace: p.BirthPlace, Gender: p.Gender, Occupation: p.Occupation, CountryID: p.CountryID,
				ProvinceID: p.ProvinceID, CityID: p.CityID, DistrictID: p.DistrictID, Address: p.Address, PhoneNumber: p.PhoneNumber}
			if len(e) == 0 {
				if err := d.Validate(); err != nil {
					errs = append(errs, fieldErrors(rec.line, err)...)
				}
			}
			rp.Data = &d
		}
		for _, f := range []struct {
			col string
			dst *string
		}{{"identity_image", &rp.IdentityImage}, {"selfie_image", &rp.SelfieImage}} {
			if vals[f.col] == "" {
				continue
			}
			path, e := images.check(vals[f.col])
			if e != "" {
				errs = append(errs, RowError{rec.line, f.col, e})
			}
			*f.dst = path
		}
		if v := strings.TrimSpace(vals["documents"]); v != "" {
			for _, part := range strings.Split(v, ";") {
				typ, file, ok := strings.Cut(strings.TrimSpace(part), "=")
				selfie := strings.HasSuffix(typ, "_selfie")
				dt := flipkyc.DocumentType(strings.TrimSuffix(typ, "_selfie"))
				if !ok || !dt.Known() {
					errs = append(errs, RowError{rec.line, "documents", "want TYPE=FILE pairs separated by ';', TYPE one of Flip's document types (family_card, npwp, bpjs_kesehatan, …, or TYPE_selfie)"})
					continue
				}
				path, e := images.check(strings.TrimSpace(file))
				if e != "" {
					errs = append(errs, RowError{rec.line, "documents", e})
				}
				rp.Documents = append(rp.Documents, DocumentFile{Type: dt, Selfie: selfie, Path: path})
			}
		}
		if v := strings.TrimSpace(vals["agent_id"]); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			switch {
			case err != nil || id <= 0:
				errs = append(errs, RowError{rec.line, "agent_id", "want Flip's id of the agent, a positive whole number"})
			case rp.Data != nil || rp.IdentityImage != "" || rp.SelfieImage != "" || len(rp.Documents) > 0:
				errs = append(errs, RowError{rec.line, "agent_id", "give agent_id alone: it resumes an agent parked at its create, corrections come after"})
			}
			rp.AgentID = id
		}
		if v := strings.TrimSpace(vals["not_created"]); v != "" {
			switch {
			case !requestIDPattern.MatchString(v):
				errs = append(errs, RowError{rec.line, "not_created", "want the Request-ID of the agent's create (bigflip-…, as 'flipkyc status' shows it), which Flip confirmed created no agent"})
			case rp.Data != nil || rp.IdentityImage != "" || rp.SelfieImage != "" || len(rp.Documents) > 0 || rp.AgentID != 0:
				errs = append(errs, RowError{rec.line, "not_created", "give not_created alone: it creates again an agent parked at its create that Flip never created"})
			}
			rp.NotCreated = v
		}
		if len(errs) == 0 && rp.Data == nil && rp.IdentityImage == "" && rp.SelfieImage == "" && len(rp.Documents) == 0 && rp.AgentID == 0 && rp.NotCreated == "" {
			errs = append(errs, RowError{rec.line, "identity_number", "nothing to repair: give corrected data, identity_image, selfie_image, documents, or, for an agent parked at its create, agent_id or not_created"})
		}
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		out = append(out, rp)
	}
	return out, bad, nil
}

type record struct {
	line   int
	fields []string
}

func (r record) values(header map[string]int) map[string]string {
	m := make(map[string]string, len(header))
	for name, i := range header {
		if i < len(r.fields) {
			m[name] = strings.TrimSpace(r.fields[i])
		}
	}
	return m
}

// readRecords reads every record of a CSV whose header names the required
// columns.
func readRecords(r io.Reader, required []string) ([]record, map[string]int, error) {
	rr, err := newRecordReader(r, required)
	if err != nil {
		return nil, nil, err
	}
	var recs []record
	for {
		rec, err := rr.next()
		if errors.Is(err, io.EOF) {
			return recs, rr.header, nil
		}
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, rec)
	}
}

// recordReader reads a CSV's records one at a time.
type recordReader struct {
	cr         *csv.Reader
	header     map[string]int // column name -> index
	names      []string       // column index -> name
	width      int            // the fields of a row: up to the header's last named column
	headerLine int
}

// newRecordReader reads the header line, which must name the required
// columns.
func newRecordReader(r io.Reader, required []string) (*recordReader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the CSV is empty: its first line must name its columns")
	}
	if err != nil {
		return nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	if len(head) == 1 && strings.ContainsAny(head[0], ";\t") {
		return nil, errors.New("the header is one column with ';' or tabs in it: the CSV's fields must be separated by commas (a spreadsheet's \"CSV (comma delimited)\")")
	}
	headerLine, _ := cr.FieldPos(0)
	header := map[string]int{}
	names := make([]string, len(head))
	width := 0
	for i, h := range head {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if looksLikeValue(name) {
			// Not printed: it may be an agent's data.
			return nil, fmt.Errorf("line %d, column %d: the header holds a value (a long number, a date or an e-mail address), not a column name: is the header line missing, or a row joined to it?", headerLine, i+1)
		}
		_, twice := header[name]
		if twice && slices.Contains(knownColumns, name) {
			return nil, fmt.Errorf("the header names the column %s twice: which one holds the values?", name)
		}
		names[i] = name
		if !twice {
			header[name] = i
		}
		if name != "" {
			width = i + 1
		}
	}
	var missing []string
	for _, c := range required {
		found := false
		for _, alt := range strings.Split(c, " or ") {
			_, ok := header[alt]
			found = found || ok
		}
		if !found {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s (columns: %s, each location by id or by name: %s)", lacks(missing),
			strings.Join(Columns, ", "), strings.Join(LocationNameColumns, ", "))
	}
	return &recordReader{cr: cr, header: header, names: names, width: width, headerLine: headerLine}, nil
}

// looksLikeValue reports whether a heading holds what a row's field does
// and no column's name does: 6 digits or more (an identity or phone
// number, however spaced), a date (DD-MM-YYYY or YYYY-MM-DD, with -, / or
// .) or an e-mail address.
func looksLikeValue(heading string) bool {
	digits := 0
	for _, r := range heading {
		if '0' <= r && r <= '9' {
			digits++
		}
	}
	return digits >= 6 || strings.Contains(heading, "@") || dateInHeading.MatchString(heading)
}

var dateInHeading = regexp.MustCompile(`[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}|[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}`)

// lacks says which columns the CSV lacks.
func lacks(missing []string) string {
	if len(missing) == 1 {
		return fmt.Sprintf("the CSV has no %s column", missing[0])
	}
	return "the CSV has none of the columns " + strings.Join(missing, ", ")
}

// next returns the next record that is not blank (an empty line, or only
// separators and spaces, as spreadsheets write an empty row), or io.EOF. A
// line the CSV reader cannot parse is a *lineError; the reading can go on
// after it.
func (rr *recordReader) next() (record, error) {
	for {
		fields, err := rr.cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote) && pe.Line != pe.StartLine {
				// A quoted field left open took the lines after it: they
				// were not read, and are not to be taken as none.
				return record{}, fmt.Errorf("CSV line %d: a quoted field opened there is still open at line %d: the lines after it were read as its value", pe.StartLine, pe.Line)
			}
			if errors.As(err, &pe) {
				return record{}, &lineError{pe}
			}
			return record{}, err
		}
		line, _ := rr.cr.FieldPos(0)
		if !slices.ContainsFunc(fields, func(f string) bool { return strings.TrimSpace(f) != "" }) {
			continue
		}
		return record{line: line, fields: fields}, nil
	}
}

// lineError is a CSV line that cannot be parsed.
type lineError struct{ pe *csv.ParseError }

func (e *lineError) Error() string {
	return fmt.Sprintf("CSV line %d at byte %d: %v", e.pe.Line, e.pe.Column, e.pe.Err)
}

// rowError is the line's RowError: on the line its record starts on, where
// the parse failed, and why.
func (e *lineError) rowError() RowError {
	at := fmt.Sprintf("byte %d", e.pe.Column)
	if e.pe.Line != e.pe.StartLine {
		at = fmt.Sprintf("line %d, byte %d", e.pe.Line, e.pe.Column)
	}
	return RowError{e.pe.StartLine, "row", fmt.Sprintf("cannot be read as CSV (%s): %v", at, e.pe.Err)}
}

// fieldCount checks that rec has a field for each named column of the
// header (spare empty fields at its end, as spreadsheets write, are fine),
// and returns the RowError of one that does not.
func (rr *recordReader) fieldCount(rec record) (RowError, bool) {
	want := rr.width
	fields := rec.fields
	for len(fields) > want && strings.TrimSpace(fields[len(fields)-1]) == "" {
		fields = fields[:len(fields)-1]
	}
	if len(fields) == want {
		return RowError{}, true
	}
	// A row may leave out optional columns at its end (an e-mail).
	if len(fields) < want && !slices.ContainsFunc(rr.names[len(fields):want], func(name string) bool {
		return slices.Contains(knownColumns, name) && !slices.Contains(optionalColumns, name)
	}) {
		return RowError{}, true
	}
	return RowError{rec.line, "row", fmt.Sprintf("has %d fields, the header %d: a separator too many or too few?", len(fields), want)}, false
}

// parseParams reads the data columns; repair reads only those present.
func parseParams(line int, v map[string]string, partial bool) (flipkyc.AgentParams, []RowError) {
	var errs []RowError
	id := func(col string) int64 {
		if v[col] == "" {
			return 0
		}
		n, err := strconv.ParseInt(v[col], 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, RowError{line, col, "want a positive whole number (an id from 'flipkyc locations')"})
		}
		return n
	}
	p := flipkyc.AgentParams{
		Name: v["name"], IdentityType: flipkyc.IdentityType(strings.ToLower(v["identity_type"])),
		IdentityNumber: v["identity_number"], BirthPlace: v["birth_place"],
		Gender: flipkyc.Gender(strings.ToLower(v["gender"])), Occupation: flipkyc.Occupation(strings.ToLower(v["occupation"])),
		CountryID: id("country_id"), ProvinceID: id("province_id"), CityID: id("city_id"), DistrictID: id("district_id"),
		Address: v["address"], PhoneNumber: v["phone_number"], Email: v["email"],
	}
	for _, col := range []string{"identity_number", "phone_number"} {
		if scientificNotation.MatchString(v[col]) {
			errs = append(errs, RowError{line, col, ruleScientificNotation})
		}
	}
	if s := v["birth_date"]; s != "" {
		d, err := flipkyc.ParseDate(s)
		if err != nil {
			errs = append(errs, RowError{line, "birth_date", "want DD-MM-YYYY or YYYY-MM-DD, a real calendar day"})
		}
		p.BirthDate = d
	}
	if !partial {
		errs = append(errs, checkPlaceColumns(line, v)...)
		reported := make(map[string]bool, len(errs))
		for _, e := range errs {
			reported[e.Field] = true
		}
		if err := p.Validate(); err != nil {
			for _, fe := range fieldErrors(line, err) {
				if reported[fe.Field] {
					continue // its value could not be read: said above
				}
				// A location to be resolved has no id yet: Locations.Resolve
				// checks it against Flip's lists.
				i := slices.Index(locationIDColumns, fe.Field)
				if i >= 0 && toResolve(i, v) {
					continue
				}
				if i >= 0 {
					fe = missingPlace(fe, i, v)
				}
				errs = append(errs, fe)
			}
		}
	}
	return p, errs
}

// ruleScientificNotation is the rule a number in scientificNotation breaks.
const ruleScientificNotation = "written as a number in scientific notation (E+) by a spreadsheet, which lost its last digits: format the column as text and export the CSV again"

// scientificNotation is a number as a spreadsheet shows a long one, such
// as an identity number: 3.20101E+15.
var scientificNotation = regexp.MustCompile(`^[0-9]+([.,][0-9]+)?[eE][+-]?[0-9]+$`)

// locationIDColumns are the id columns of LocationNameColumns, level by
// level.
var locationIDColumns = []string{"country_id", "province_id", "city_id", "district_id"}

// toResolve reports whether the location of level i has no id in the
// row's values v and is left to Locations.Resolve: named, or the country,
// which is Indonesia by default.
func toResolve(i int, v map[string]string) bool {
	return v[locationIDColumns[i]] == "" && (i == 0 || v[LocationNameColumns[i]] != "")
}

// missingPlace is fe, the error of a row that gives no location at level
// i, in the columns the CSV has: a CSV that names places is told the name
// column, one with both columns is told either will do.
func missingPlace(fe RowError, i int, v map[string]string) RowError {
	_, named := v[LocationNameColumns[i]]
	_, byID := v[locationIDColumns[i]]
	switch {
	case named && byID:
		fe.Rule = fmt.Sprintf("%s: give %s or %s", fe.Rule, locationIDColumns[i], LocationNameColumns[i])
	case named:
		fe.Field = LocationNameColumns[i]
	}
	return fe
}

// checkPlaceColumns refuses a location given both by id and by name.
func checkPlaceColumns(line int, v map[string]string) []RowError {
	var errs []RowError
	for i, name := range LocationNameColumns {
		if v[name] != "" && v[locationIDColumns[i]] != "" {
			errs = append(errs, RowError{line, name, fmt.Sprintf("give %s or %s, not both", locationIDColumns[i], name)})
		}
	}
	return errs
}

func fieldErrors(line int, err error) []RowError {
	var ve *flipkyc.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 {
		return []RowError{{line, "row", err.Error()}}
	}
	out := make([]RowError, len(ve.Fields))
	for i, f := range ve.Fields {
		out[i] = RowError{line, f.Field, f.Rule}
	}
	return out
}

// imagesDir is the directory the image columns name files in, opened as
// an os.Root so that no name leads out of it.
type imagesDir struct {
	path string // absolute
	root *os.Root
}

func openImages(dir string) (*imagesDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot open the images directory: %w", err)
	}
	return &imagesDir{path: abs, root: root}, nil
}

// check resolves an image column inside the images directory and checks
// the file against Flip's image rules; it returns the file's absolute path
// and the rule broken, or "".
func (d *imagesDir) check(name string) (string, string) {
	switch {
	case name == "":
		return "", "required: a PNG or JPEG file name"
	case filepath.IsAbs(name) || strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`):
		return "", "want a file name relative to the images directory (--images), not an absolute path"
	case !filepath.IsLocal(name):
		return "", "want a file inside the images directory (--images): '..' leads out of it"
	}
	path := filepath.Join(d.path, name)
	st, err := d.root.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, "file not found in the images directory"
	case err != nil:
		if _, serr := os.Stat(path); serr == nil {
			return path, "leads out of the images directory (--images) through a symbolic link"
		}
		return path, "cannot be read"
	case !st.Mode().IsRegular():
		return path, "not a regular file"
	}
	file, err := d.root.Open(name)
	if err != nil {
		return path, "cannot be read"
	}
	defer file.Close()
	if err := (flipkyc.Image{Name: filepath.Base(name), Content: file}).Validate(); err != nil {
		var ve *flipkyc.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) == 0 {
			return path, "cannot be read"
		}
		rules := make([]string, len(ve.Fields))
		for i, f := range ve.Fields {
			rules[i] = f.Rule
		}
		return path, "Flip's image rules: " + strings.Join(rules, "; ")
	}
	return path, ""
}

// openImage opens the image at path, inside the images directory dir (a
// row stored by an earlier version has none, and names an absolute path).
func openImage(dir, path string) (*os.File, error) {
	if dir == "" {
		return os.Open(path)
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Open(rel)
}
