/* `shir credentials set|list|delete`: the logins scans of database sources use (issue 13),
 * replicated and sealed. The password is read from a file or stdin, never from argv, and sent
 * only over the local admin socket; nothing prints it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "cluster/cluster.h"
#include "common/common.h"
#include "node/agent.h"
#include "node/node.h"
#include "transport/transport.h"

#define CREDS_TIMEOUT_MS 10000

struct creds_cli {
    const char *user, *pwfile;
    const char *name;
    bool json;
    char password[CLUSTER_CREDENTIAL_SECRET_MAX + 2];
    size_t password_len;
};

static int creds_opt(int val, char *arg, void *ctx)
{
    struct creds_cli *x = ctx;
    if (val == 'u')
        x->user = arg;
    else
        x->pwfile = arg;
    return -1;
}

/* A usage error: the message (and with --json the error object), then the usage. */
static int usage(const struct creds_cli *x, const char *msg)
{
    if (x->json)
        node_cli_json_error("USAGE", msg);
    return node_usage_error(&node_cmd_credentials, "%s", msg);
}

/* The whole file or stdin, at most CLUSTER_CREDENTIAL_SECRET_MAX bytes after one trailing
 * newline (from echo or an editor) is dropped. 0, or -1 with msg. */
static int read_password(struct creds_cli *x, char *msg, size_t cap)
{
    bool in = strcmp(x->pwfile, "-") == 0;
    FILE *f = in ? stdin : fopen(x->pwfile, "r");
    if (!f) {
        (void)shir_str_fmt(msg, cap, "cannot open %s: %s", x->pwfile, strerror(errno));
        return -1;
    }
    size_t n = fread(x->password, 1, sizeof x->password - 1, f);
    bool err = ferror(f) != 0;
    if (!in)
        fclose(f);
    if (n > 0 && x->password[n - 1] == '\n')
        n--;
    if (n > 0 && x->password[n - 1] == '\r')
        n--;
    if (err || n == 0 || n > CLUSTER_CREDENTIAL_SECRET_MAX) {
        (void)shir_str_fmt(msg, cap, "cannot read a password of 1-%d bytes from %s",
                           CLUSTER_CREDENTIAL_SECRET_MAX, in ? "stdin" : x->pwfile);
        return -1;
    }
    x->password_len = n;
    return 0;
}

static int pack_set(msgpack_packer *pk, void *arg)
{
    const struct creds_cli *x = arg;
    int rv = msgpack_pack_map(pk, 3);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, x->name);
    rv |= transport_pack_cstr(pk, "user") | transport_pack_cstr(pk, x->user);
    rv |= transport_pack_cstr(pk, "password") | msgpack_pack_str(pk, x->password_len) |
          msgpack_pack_str_body(pk, x->password, x->password_len);
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_name(msgpack_packer *pk, void *arg)
{
    const struct creds_cli *x = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "name") | transport_pack_cstr(pk, x->name);
    return rv ? SHIR_E_NOMEM : 0;
}

static void print_list(const msgpack_object *body)
{
    const msgpack_object_array *a = NULL;
    if (transport_body_get_array(body, "credentials", &a) != 0 || a->size == 0) {
        printf("No credentials ('shir credentials set NAME --user U --password-file F' adds "
               "one).\n");
        return;
    }
    printf("%-24s %-6s %-24s %s\n", "NAME", "KIND", "USER", "UPDATED");
    for (uint32_t i = 0; i < a->size; i++) {
        char name[80] = "?", kind[16] = "?", user[260] = "?", updated[40] = "-";
        (void)transport_body_copy_str(&a->ptr[i], "name", name, sizeof name);
        (void)transport_body_copy_str(&a->ptr[i], "kind", kind, sizeof kind);
        (void)transport_body_copy_str(&a->ptr[i], "user", user, sizeof user);
        (void)transport_body_copy_str(&a->ptr[i], "updated", updated, sizeof updated);
        printf("%-24s %-6s %-24s %s\n", name, kind, user, updated);
    }
}

static int finish(const struct creds_cli *x, const char *who, int rv, struct node_admin_reply *r,
                  const char *err, const char *said)
{
    if (rv != 0)
        return node_cli_fail(who, x->json, rv, err);
    const msgpack_object *body = node_admin_reply_body(r);
    if (x->json) {
        node_json_print(stdout, body);
        fputc('\n', stdout);
    } else if (said) {
        printf("Credential %s %s\n", x->name, said);
    } else {
        print_list(body);
    }
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

static int creds_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"user", required_argument, NULL, 'u'},
        {"password-file", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    static struct creds_cli x; /* the password buffer is wiped before return */
    memset(&x, 0, sizeof x);
    struct node_flags f;
    struct node_opts own = {opts, creds_opt, &x};
    int prv = node_parse_flags(&node_cmd_credentials, argc, argv, NODE_FLAG_JSON, &own, &f);
    if (prv >= 0)
        return prv;
    x.json = f.json;
    if (optind >= argc)
        return usage(&x, "missing subcommand (set, list, delete)");
    const char *sub = argv[optind++];
    bool is_set = strcmp(sub, "set") == 0;
    if (!is_set && (x.user || x.pwfile))
        return usage(&x, "--user and --password-file go with 'credentials set'");
    struct node_admin_reply *r = NULL;
    char err[512];
    int rv;
    if (strcmp(sub, "list") == 0) {
        if (optind != argc)
            return usage(&x, "credentials list takes no argument");
        rv = node_admin_call(f.data_dir, "credentials.list", NULL, NULL, CREDS_TIMEOUT_MS, &r, err,
                             sizeof err);
        return finish(&x, "credentials list", rv, r, err, NULL);
    }
    if (!is_set && strcmp(sub, "delete") != 0)
        return usage(&x, "bad subcommand (set, list, delete)");
    if (optind + 1 != argc)
        return usage(&x, is_set ? "credentials set takes one NAME"
                                : "credentials delete takes one NAME");
    x.name = argv[optind];
    if (!node_valid_node_name(x.name))
        return usage(&x, "a credential name is 1-63 characters of [A-Za-z0-9._-]");
    if (!is_set) {
        rv = node_admin_call(f.data_dir, "credentials.delete", pack_name, &x, CREDS_TIMEOUT_MS,
                             &r, err, sizeof err);
        return finish(&x, "credentials delete", rv, r, err, "deleted.");
    }
    if (!x.user || !x.user[0] || strlen(x.user) > CLUSTER_CREDENTIAL_TEXT_MAX)
        return usage(&x, "credentials set needs --user USER (1-255 bytes)");
    if (!x.pwfile)
        return usage(&x, "credentials set needs --password-file FILE, or - for stdin (a "
                         "password is never taken from the command line)");
    if (read_password(&x, err, sizeof err) != 0) {
        shir_wipe(x.password, sizeof x.password);
        return node_cli_fail("credentials set", x.json, SHIR_E_INVAL, err);
    }
    rv = node_admin_call(f.data_dir, "credentials.set", pack_set, &x, CREDS_TIMEOUT_MS, &r, err,
                         sizeof err);
    shir_wipe(x.password, sizeof x.password);
    return finish(&x, "credentials set", rv, r, err,
                  "saved; scans naming it use it from their next run.");
}

const struct node_cmd node_cmd_credentials = {
    .name = "credentials",
    .summary = "set, list or delete the logins of database sources",
    .usage =
        "usage: shir credentials set NAME --user USER --password-file FILE|- [--json]\n"
        "       shir credentials list [--json]\n"
        "       shir credentials delete NAME [--json]\n"
        "(each also takes --data-dir DIR)\n"
        "\n"
        "A credential is a user and a password that scans of database sources log in with\n"
        "(shir scan create NAME --source postgres://HOST/DB --credential CRED ...). set creates or\n"
        "replaces it: one raft entry, the password sealed under the runtime's data secret before\n"
        "it is proposed, so neither the log, nor snapshots, nor any output holds it in clear. The\n"
        "password is read from FILE or stdin (-), at most 1024 bytes, one trailing newline\n"
        "dropped; it is never a flag value. list shows names, kinds, users and times, never a\n"
        "password. delete is refused (BUSY) while a scan names the credential.\n",
    .run = creds_run,
};
