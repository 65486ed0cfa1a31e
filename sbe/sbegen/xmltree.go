package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is one XML element with its attributes, children and text, in
// document order (SBE gives meaning to the order of fields and members,
// which encoding/xml's struct unmarshalling does not keep across kinds).
type node struct {
	name  xml.Name
	attrs []xml.Attr
	kids  []*node
	text  strings.Builder
	line  int
}

// parseXML reads a whole document into a tree rooted at its single element.
func parseXML(r io.Reader) (*node, error) {
	d := xml.NewDecoder(r)
	var stack []*node
	var root *node
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name, attrs: append([]xml.Attr(nil), t.Attr...), line: line}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			} else if root != nil {
				return nil, fmt.Errorf("line %d: more than one root element", line)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// attr returns the unqualified attribute local.
func (n *node) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

// attrOr returns the unqualified attribute local, or def when absent.
func (n *node) attrOr(local, def string) string {
	if v, ok := n.attr(local); ok {
		return v
	}
	return def
}

// attrNS returns the attribute local in namespace space (a URI).
func (n *node) attrNS(space, local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == space && a.Name.Local == local {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

// textValue is the element's character data without surrounding space.
func (n *node) textValue() string { return strings.TrimSpace(n.text.String()) }
