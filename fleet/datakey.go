package fleet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvDataKey is the environment variable that may hold a run's data key,
// 32 bytes in base64, instead of a key file.
const EnvDataKey = "FLIPKYC_DATA_KEY"

// DataKeySize is the length of a data key in bytes.
const DataKeySize = 32

// DataKey is a run's data key, kept outside its database (a key file or
// FLIPKYC_DATA_KEY). From it are derived the key of the keyed hash that
// names each agent (in place of its identity number), the AES-256-GCM key
// that seals each agent's personal fields, and a check value stored in the
// database so that a wrong key is refused.
type DataKey struct {
	hashKey []byte
	aead    cipher.AEAD
	check   string
}

// Errors about the data key.
var (
	// ErrNoDataKey is returned where the run needs its data key and was
	// opened without one.
	ErrNoDataKey = errors.New("fleet: this needs the run's data key (--key-file or " + EnvDataKey + ")")
	// ErrWrongDataKey is returned by Open when the key given is not the
	// one the run's personal data was sealed with.
	ErrWrongDataKey = errors.New("fleet: the data key given is not this run's (its check value does not match): give the key file or " + EnvDataKey + " the run was made with")
)

// NewDataKey returns the data key of raw, 32 random bytes.
func NewDataKey(raw []byte) (*DataKey, error) {
	if len(raw) != DataKeySize {
		return nil, fmt.Errorf("fleet: a data key is %d bytes, this one is %d", DataKeySize, len(raw))
	}
	derive := func(purpose string) []byte {
		k, err := hkdf.Key(sha256.New, raw, nil, "flipkyc fleet "+purpose, 32)
		if err != nil {
			panic(err) // only for lengths hkdf cannot give
		}
		return k
	}
	block, err := aes.NewCipher(derive("seal v1"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &DataKey{hashKey: derive("agent key v1"), aead: aead, check: hex.EncodeToString(derive("key check v1"))}, nil
}

// ParseDataKey reads a data key written in base64 (standard or URL
// alphabet, padded or not), as in a key file or FLIPKYC_DATA_KEY. The
// error never repeats the text.
func ParseDataKey(s string) (*DataKey, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err := enc.DecodeString(s); err == nil && len(raw) == DataKeySize {
			return NewDataKey(raw)
		}
	}
	return nil, fmt.Errorf("fleet: a data key is %d random bytes in base64 (44 characters); this one is not", DataKeySize)
}

// maxKeyFileSize bounds what is read of a key file, which holds one line
// of base64.
const maxKeyFileSize = 1 << 10

// ReadKeyFile reads the data key from a key file, which must be a regular
// file: a directory, device or pipe is refused before it is read.
func ReadKeyFile(path string) (*DataKey, error) {
	info, err := os.Stat(path)
	if err == nil && !info.Mode().IsRegular() {
		return nil, fmt.Errorf("reading the data key file: %s is not a regular file", path)
	}
	var b []byte
	if err == nil {
		var file *os.File
		if file, err = os.Open(path); err == nil {
			b, err = io.ReadAll(io.LimitReader(file, maxKeyFileSize))
			file.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the data key file: %w", err)
	}
	k, err := ParseDataKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// CreateKeyFile writes a new random data key to path, readable by its
// owner only, and returns it. It never writes over an existing file: the
// key is written whole to a new file beside path, which is then linked
// there, so that a process reading path never finds half a key.
func CreateKeyFile(path string) (*DataKey, error) {
	raw := make([]byte, DataKeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	text := base64.StdEncoding.EncodeToString(raw) + "\n"
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("creating the data key file: %w", &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist})
	}
	file, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // owner-only
	if err != nil {
		// Said of the key file: the temporary file is this function's own.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = &fs.PathError{Op: "create", Path: path, Err: pe.Err}
		}
		return nil, fmt.Errorf("creating the data key file: %w", err)
	}
	defer os.Remove(file.Name())
	if err := writeKeyText(file, text); err != nil {
		return nil, err
	}
	if err := os.Link(file.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("creating the data key file: %w", err)
		}
		// A file system without hard links: the file is created in place.
		return createKeyFileInPlace(path, text, raw)
	}
	return NewDataKey(raw)
}

// createKeyFileInPlace writes text, the key raw in base64, to a new file
// at path, for CreateKeyFile where a file cannot be linked.
func createKeyFileInPlace(path, text string, raw []byte) (*DataKey, error) {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the data key file: %w", err)
	}
	if err := writeKeyText(file, text); err != nil {
		os.Remove(path)
		return nil, err
	}
	return NewDataKey(raw)
}

// writeKeyText writes text to file, syncs and closes it.
func writeKeyText(file *os.File, text string) error {
	_, err := file.WriteString(text)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the data key file: %w", err)
	}
	return nil
}

// OpenOrCreateKeyFile reads the key file at path, or creates it when it
// does not exist; created reports which. Of processes creating it at
// once, one creates it and the others read the key it wrote.
func OpenOrCreateKeyFile(path string) (k *DataKey, created bool, err error) {
	k, err = ReadKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = CreateKeyFile(path)
		if errors.Is(err, fs.ErrExist) {
			k, err = ReadKeyFile(path)
			return k, false, err
		}
		return k, err == nil, err
	}
	return k, false, err
}

// agentKey is the run's name for the agent with an identity number: the
// first 128 bits of its HMAC-SHA256 under the run's hash key, in hex.
// Without the data key it cannot be computed, so a copy of the database
// cannot be searched for a known number.
func (k *DataKey) agentKey(identityNumber string) string {
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte(identityNumber))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// phoneKey is the run's keyed hash of a phone number as Flip registers it
// (phoneAsFlipStores), so that a new agent's number can be found among
// the run's agents (Import, InRun) without keeping it in clear: the first
// 128 bits of its HMAC-SHA256 under the run's hash key, apart from the
// identity numbers' (agentKey) by a prefix; "" for no number.
func (k *DataKey) phoneKey(phone string) string {
	if phone == "" {
		return ""
	}
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte("phone_number\x00"))
	m.Write([]byte(phoneAsFlipStores(phone)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// sealPrefix marks a value sealed with the data key (version 1).
const sealPrefix = "v1."

// seal encrypts plain with AES-GCM under a random nonce, bound to the
// agent's key (additional data) so that sealed values cannot be moved from
// one agent to another.
func (k *DataKey) seal(agentKey string, plain []byte) string {
	buf := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return sealPrefix + base64.RawStdEncoding.EncodeToString(k.aead.Seal(buf, buf, plain, []byte(agentKey)))
}

// errUnsealable is a stored value that this key cannot open.
var errUnsealable = errors.New("fleet: a sealed value cannot be opened with this data key")

// open decrypts a value of seal for the agent.
func (k *DataKey) open(agentKey, sealed string) ([]byte, error) {
	s, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return nil, errUnsealable
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	n := k.aead.NonceSize()
	if err != nil || len(b) < n {
		return nil, errUnsealable
	}
	plain, err := k.aead.Open(b[n:n], b[:n], b[n:], []byte(agentKey))
	if err != nil {
		return nil, errUnsealable
	}
	return plain, nil
}

// matches reports whether check is this key's check value.
func (k *DataKey) matches(check string) bool {
	return subtle.ConstantTimeCompare([]byte(k.check), []byte(check)) == 1
}
