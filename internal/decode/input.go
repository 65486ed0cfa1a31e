package decode

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Source is an opened input.
type Source struct {
	io.Reader
	// Name describes the input for messages: "stdin", a file name, or
	// "argument" for data given inline.
	Name  string
	close func() error
}

// Close releases the input (a no-op except for files).
func (s *Source) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// Open returns the input arg names. "" and "-" are stdin. An existing file
// is read. With Hex or Base64 input, an argument that is not an existing
// file but is valid hex (base64) text is the data itself, so a message can
// be given on the command line; a file of that name always wins.
func Open(arg string, in Input, stdin io.Reader) (*Source, error) {
	if arg == "" || arg == "-" {
		return &Source{Reader: stdin, Name: "stdin"}, nil
	}
	f, err := os.Open(arg)
	if err == nil {
		if st, serr := f.Stat(); serr == nil && st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s is a directory", arg)
		}
		return &Source{Reader: f, Name: arg, close: f.Close}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || in == Raw {
		return nil, err
	}
	if isInline(arg, in) {
		return &Source{Reader: strings.NewReader(arg), Name: "argument"}, nil
	}
	shown := arg
	if len(shown) > 40 {
		shown = shown[:37] + "..."
	}
	return nil, fmt.Errorf("%q is neither an existing file nor valid %s data", shown, in)
}

// isInline reports whether arg is non-empty valid hex (base64) text: one or
// more lines of it, whitespace ignored.
func isInline(arg string, in Input) bool {
	d := &decoder{opts: Options{Input: in}}
	found := false
	for _, line := range strings.Split(arg, "\n") {
		packed := d.pack(nil, []byte(line), false)
		if len(packed) == 0 {
			continue
		}
		if _, err := d.decodeText(nil, packed); err != nil {
			return false
		}
		found = true
	}
	return found
}
