package s3put_test

import (
	"context"
	"log"
	"net/url"
	"os"
	"testing"

	dgen "github.com/libdgen/dgen/bindings/go"
	"github.com/libdgen/dgen/bindings/go/examples/s3put"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Put 16 objects of 1 MiB at dedup 2 and compression 3 on a local S3
// server, the credentials taken from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY.
func Example() {
	client, err := minio.New("127.0.0.1:7070", &minio.Options{
		Creds:  credentials.NewEnvAWS(),
		Secure: false,
	})
	if err != nil {
		log.Fatal(err)
	}
	g, err := dgen.New(dgen.Config{Size: 16 << 20, DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(42)})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	if err := s3put.PutObjects(context.Background(), client, "bench", "data/", g, 16, 1<<20); err != nil {
		log.Fatal(err)
	}
}

// client is a MinIO client for DGEN_S3_ENDPOINT (scripts/test-s3.sh starts
// a server and sets it); without one the test is skipped.
func client(t *testing.T) (*minio.Client, string) {
	endpoint := os.Getenv("DGEN_S3_ENDPOINT")
	bucket := os.Getenv("DGEN_S3_BUCKET")
	if endpoint == "" || bucket == "" {
		t.Skip("no S3 server: set DGEN_S3_ENDPOINT (http://HOST:PORT) and DGEN_S3_BUCKET, as scripts/test-s3.sh does")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewEnvAWS(), Secure: u.Scheme == "https"})
	if err != nil {
		t.Fatal(err)
	}
	return c, bucket
}

// Small objects go up in one PUT, large ones as multipart uploads; both
// read back as the stream's ranges.
func TestPutAndVerify(t *testing.T) {
	c, bucket := client(t)
	ctx := context.Background()
	for _, tc := range []struct {
		prefix  string
		objects int
		size    int64
	}{{"go-small/", 16, 1 << 20}, {"go-large/", 2, 20 << 20}} {
		g, err := dgen.New(dgen.Config{Size: uint64(tc.objects) * uint64(tc.size), DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(11)})
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		if err := s3put.PutObjects(ctx, c, bucket, tc.prefix, g, tc.objects, tc.size); err != nil {
			t.Fatal(err)
		}
		if err := s3put.VerifyObjects(ctx, c, bucket, tc.prefix, g, tc.objects, tc.size); err != nil {
			t.Fatal(err)
		}
		// The same objects from another seed do not verify.
		other, err := dgen.New(dgen.Config{Size: g.Size(), DedupRatio: 2, CompressRatio: 3, Seed: dgen.SeedOf(12)})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if err := s3put.VerifyObjects(ctx, c, bucket, tc.prefix, other, 1, tc.size); err == nil {
			t.Fatalf("%s: objects of seed 11 verified against seed 12", tc.prefix)
		}
	}
}

// The objects are exactly what `dgen put` writes: object i of the Go
// example and of the CLI under the same seed are the same range.
func TestKeys(t *testing.T) {
	if got := s3put.Key("data/", 7); got != "data/00000007" {
		t.Fatalf("Key = %q", got)
	}
}
