package export

import (
	"strings"
	"testing"
)

// TestWriterDialect: RFC 4180 quoting, CRLF line ends, the formula guard
// and invalid UTF-8 replaced, cell by cell.
func TestWriterDialect(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	if err := w.Write("plain", "a,b", `say "hi"`, "two\nlines", "=SUM(A1)", "+1", "-2", "@me", "\tx", "'kept", "bad\xffbyte", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Write("=a,b"); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `plain,"a,b","say ""hi""","two` + "\n" + `lines",'=SUM(A1),'+1,'-2,'@me,'` + "\tx,'kept,bad\uFFFDbyte,\r\n" +
		`"'=a,b"` + "\r\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestColumns(t *testing.T) {
	for _, tc := range []struct {
		got  []string
		want string
	}{
		{LeadColumns(Merchant), "created_at,email,name,program,affiliate,referral_code,sub_id,purchased"},
		{LeadColumns(Portal), "created_at,email,name,program,referral_code,sub_id,purchased"},
		{PurchaseColumns(Merchant), "purchased_at,order_id,email,name,product,amount,currency,commission,status,program,affiliate,referral_code,sub_id"},
		{PurchaseColumns(Portal), "purchased_at,order_id,email,name,product,amount,currency,commission,status,sub_id"},
	} {
		if got := strings.Join(tc.got, ","); got != tc.want {
			t.Errorf("columns %s, want %s", got, tc.want)
		}
	}
}
