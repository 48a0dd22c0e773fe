/* A program outside the libdgen tree, built against an installed libdgen
 * (find_package or pkg-config, shared or static). It checks that what it
 * links is the library its header describes, and that it works. */
#include <dgen.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    dgen_config cfg;
    dgen_generator *gen = NULL;
    unsigned char buf[64 * 1024];
    size_t written = 0, total = 0;
    dgen_status st;

    if (strcmp(dgen_version(), DGEN_VERSION) != 0) {
        fprintf(stderr, "header %s, library %s\n", DGEN_VERSION, dgen_version());
        return 1;
    }
    dgen_config_init(&cfg);
    cfg.size = 1 << 20;
    cfg.dedup_ratio = 2.0;
    cfg.compress_ratio = 2.0;
    cfg.seed = 7;
    cfg.has_seed = true;
    st = dgen_create(&cfg, &gen);
    while (st == DGEN_STATUS_OK && (st = dgen_fill(gen, buf, sizeof buf, &written)) == DGEN_STATUS_OK &&
           written > 0) {
        st = dgen_verify_at(gen, total, buf, written, NULL);
        total += written;
    }
    if (st != DGEN_STATUS_OK || total != cfg.size || !dgen_is_complete(gen)) {
        fprintf(stderr, "failed: %s: %s\n", dgen_status_str(st), dgen_last_error());
        return 1;
    }
    /* Errors arrive as statuses with messages, not crashes. */
    cfg.dedup_ratio = 0.5;
    dgen_free(gen);
    if (dgen_create(&cfg, &gen) != DGEN_STATUS_INVALID_DEDUP_RATIO || gen != NULL) {
        return 1;
    }
    printf("libdgen %s: streamed and verified %zu bytes; bad config says \"%s\"\n", dgen_version(), total,
           dgen_last_error());
    return 0;
}
