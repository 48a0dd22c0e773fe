// Package s3put puts a libdgen dataset on S3 with the MinIO Go client, one
// object after another, each streamed from the generator as it is uploaded.
//
// Object i of the dataset is the stream's range [i*size, (i+1)*size): a
// [dgen.Generator] is an [io.ReaderAt], so [io.NewSectionReader] gives each
// object its own [io.Reader] over its range, and minio-go reads it part by
// part into a multipart upload (or one PUT for a small object). Nothing is
// built whole in memory, and the bucket holds the dataset's dedup and
// compression ratios, as `dgen put` writes them.
//
// It is an example to read and copy from, kept in a module of its own so
// that the binding itself needs no S3 client.
package s3put

import (
	"context"
	"fmt"
	"io"

	dgen "github.com/libdgen/dgen/bindings/go"
	"github.com/minio/minio-go/v7"
)

// Key is the name of object i under prefix, as `dgen put` names it: the
// index zero-padded to 8 digits.
func Key(prefix string, i int) string {
	return fmt.Sprintf("%s%08d", prefix, i)
}

// PutObjects uploads objects objects of size bytes each, taken in order from
// g (whose size must be at least objects*size), under prefix in bucket.
func PutObjects(ctx context.Context, client *minio.Client, bucket, prefix string, g *dgen.Generator, objects int, size int64) error {
	if uint64(objects)*uint64(size) > g.Size() {
		return fmt.Errorf("%d objects of %d bytes need a generator of at least %d bytes, got %d",
			objects, size, int64(objects)*size, g.Size())
	}
	for i := 0; i < objects; i++ {
		body := io.NewSectionReader(g, int64(i)*size, size)
		// PartSize bounds memory: minio-go buffers one part at a time.
		_, err := client.PutObject(ctx, bucket, Key(prefix, i), body, size,
			minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: 8 << 20})
		if err != nil {
			return fmt.Errorf("PUT %s: %w", Key(prefix, i), err)
		}
	}
	return nil
}

// VerifyObjects reads the objects back and checks every byte with
// g.Verify, which names the offset of the first wrong byte.
func VerifyObjects(ctx context.Context, client *minio.Client, bucket, prefix string, g *dgen.Generator, objects int, size int64) error {
	buf := make([]byte, 1<<20)
	for i := 0; i < objects; i++ {
		obj, err := client.GetObject(ctx, bucket, Key(prefix, i), minio.GetObjectOptions{})
		if err != nil {
			return fmt.Errorf("GET %s: %w", Key(prefix, i), err)
		}
		var at int64
		for {
			n, err := io.ReadFull(obj, buf)
			if n > 0 {
				if at+int64(n) > size {
					obj.Close()
					return fmt.Errorf("%s: more than %d bytes", Key(prefix, i), size)
				}
				if verr := g.Verify(buf[:n], int64(i)*size+at); verr != nil {
					obj.Close()
					return fmt.Errorf("%s: %w", Key(prefix, i), verr)
				}
				at += int64(n)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				obj.Close()
				return fmt.Errorf("GET %s: %w", Key(prefix, i), err)
			}
		}
		obj.Close()
		if at != size {
			return fmt.Errorf("%s: %d of %d bytes", Key(prefix, i), at, size)
		}
	}
	return nil
}
