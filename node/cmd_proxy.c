/* `shir proxy show|set|clear|test URL`: the runtime's outbound proxy, replicated to every node
 * and applied at once. A password is read from a file or stdin, never taken from argv. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "common/common.h"
#include "node/agent.h"
#include "node/node.h"
#include "transport/transport.h"

#define PROXY_TIMEOUT_MS 10000
/* proxy test: libcurl gives up after 5 s connecting and 30 s in all. */
#define PROXY_TEST_TIMEOUT_MS 40000
#define PASSWORD_MAX          256

struct proxy_args {
    const char *mode, *address, *user, *bypass, *auth, *url;
    uint64_t port;
    int bypass_local; /* -1 not given, 0 --no-bypass-local, 1 --bypass-local */
    bool password_given;
    char password[PASSWORD_MAX + 2];
    size_t password_len;
};

/* Only the fields given: the leader merges them over the current settings (F11). */
static int pack_set(struct msgpack_packer *pk, void *arg)
{
    const struct proxy_args *a = arg;
    const bool given[] = {a->mode != NULL,   a->address != NULL,    a->port != 0,
                          a->user != NULL,   a->password_given,     a->bypass != NULL,
                          a->bypass_local >= 0, a->auth != NULL};
    size_t n = 0;
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        n += given[i];
    int rv = msgpack_pack_map(pk, n);
    if (a->mode) {
        rv |= transport_pack_cstr(pk, "mode");
        rv |= transport_pack_cstr(pk, a->mode);
    }
    if (a->address) {
        rv |= transport_pack_cstr(pk, "address");
        rv |= transport_pack_cstr(pk, a->address);
    }
    if (a->port) {
        rv |= transport_pack_cstr(pk, "port");
        rv |= msgpack_pack_uint64(pk, a->port);
    }
    if (a->user) {
        rv |= transport_pack_cstr(pk, "user");
        rv |= transport_pack_cstr(pk, a->user);
    }
    if (a->password_given) {
        rv |= transport_pack_cstr(pk, "password");
        rv |= msgpack_pack_str(pk, a->password_len);
        rv |= msgpack_pack_str_body(pk, a->password, a->password_len);
    }
    if (a->bypass) {
        rv |= transport_pack_cstr(pk, "bypass");
        rv |= transport_pack_cstr(pk, a->bypass);
    }
    if (a->bypass_local >= 0) {
        rv |= transport_pack_cstr(pk, "bypassLocal");
        rv |= a->bypass_local ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    }
    if (a->auth) {
        rv |= transport_pack_cstr(pk, "auth");
        rv |= transport_pack_cstr(pk, a->auth);
    }
    return rv ? SHIR_E_NOMEM : 0;
}

static int pack_url(struct msgpack_packer *pk, void *arg)
{
    const struct proxy_args *a = arg;
    int rv = msgpack_pack_map(pk, 1);
    rv |= transport_pack_cstr(pk, "url");
    rv |= transport_pack_cstr(pk, a->url);
    return rv ? SHIR_E_NOMEM : 0;
}

static int read_password(const char *path, struct proxy_args *a)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(a->password, 1, sizeof a->password - 1, f);
    if (f != stdin)
        fclose(f);
    if (n > PASSWORD_MAX)
        return -1;
    /* One trailing newline (from echo or a text editor) is not part of the password. */
    if (n > 0 && a->password[n - 1] == '\n')
        n--;
    if (n > 0 && a->password[n - 1] == '\r')
        n--;
    a->password_len = n;
    a->password_given = true;
    return 0;
}

static bool one_of(const char *v, const char *a, const char *b, const char *c)
{
    return strcmp(v, a) == 0 || strcmp(v, b) == 0 || strcmp(v, c) == 0;
}

static int print_reply(const char *who, int rv, struct node_admin_reply *r, const char *err,
                       bool json, const char *ok)
{
    if (rv != 0) {
        char name[32];
        (void)shir_str_fmt(name, sizeof name, "proxy %s", who);
        return node_cli_fail(name, json, rv, err);
    }
    const msgpack_object *body = node_admin_reply_body(r);
    if (json) {
        node_json_print(stdout, body);
        fputc('\n', stdout);
    } else if (ok) {
        printf("%s\n", ok);
    } else if (strcmp(who, "test") == 0) {
        int64_t status = 0;
        uint64_t ms = 0;
        char via[16] = "?";
        (void)transport_body_get_i64(body, "status", &status);
        (void)transport_body_get_u64(body, "ms", &ms);
        (void)transport_body_copy_str(body, "via", via, sizeof via);
        printf("HTTP %lld in %llu ms (proxy mode: %s)\n", (long long)status, (unsigned long long)ms,
               via);
    } else {
        static const char *const keys[] = {"mode",     "address", "port",        "user",
                                           "password", "bypass",  "bypassLocal", "auth"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            char v[1100] = "";
            uint64_t u;
            bool b;
            if (transport_body_copy_str(body, keys[i], v, sizeof v) != 0) {
                if (transport_body_get_u64(body, keys[i], &u) == 0)
                    (void)shir_str_fmt(v, sizeof v, "%llu", (unsigned long long)u);
                else if (transport_body_get_bool(body, keys[i], &b) == 0)
                    (void)shir_str_copy(v, sizeof v,
                                        strcmp(keys[i], "password") == 0 ? (b ? "(set)" : "(none)")
                                                                         : (b ? "yes" : "no"));
            }
            printf("%-13s %s\n", keys[i], v[0] ? v : "-");
        }
    }
    node_admin_reply_free(r);
    return NODE_EXIT_OK;
}

struct proxy_opts {
    struct proxy_args a;
    const char *pwfile;
    bool set_flags; /* any option of `set` was given */
};

static int proxy_opt(int val, char *arg, void *ctx)
{
    struct proxy_opts *o = ctx;
    o->set_flags = true;
    switch (val) {
    case 'm':
        if (!one_of(arg, "none", "system", "custom"))
            return node_usage_error(&node_cmd_proxy, "--mode wants none, system or custom");
        o->a.mode = arg;
        break;
    case 'a':
        o->a.address = arg;
        break;
    case 'p':
        if (shir_parse_u64(arg, 1, 65535, &o->a.port) != 0)
            return node_usage_error(&node_cmd_proxy, "--port wants 1-65535, got '%s'", arg);
        break;
    case 'u':
        o->a.user = arg;
        break;
    case 'P':
        o->pwfile = arg;
        break;
    case 'b':
        o->a.bypass = arg;
        break;
    case 'l':
        o->a.bypass_local = 1;
        break;
    case 'L':
        o->a.bypass_local = 0;
        break;
    default: /* 'A' */
        if (!one_of(arg, "basic", "ntlm", "any"))
            return node_usage_error(&node_cmd_proxy, "--auth wants basic, ntlm or any");
        o->a.auth = arg;
        break;
    }
    return -1;
}

static int proxy_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"address", required_argument, NULL, 'a'},
        {"port", required_argument, NULL, 'p'},
        {"user", required_argument, NULL, 'u'},
        {"password-file", required_argument, NULL, 'P'},
        {"bypass", required_argument, NULL, 'b'},
        {"bypass-local", no_argument, NULL, 'l'},
        {"no-bypass-local", no_argument, NULL, 'L'},
        {"auth", required_argument, NULL, 'A'},
        {NULL, 0, NULL, 0},
    };
    struct proxy_opts o;
    memset(&o, 0, sizeof o);
    o.a.bypass_local = -1;
    struct node_flags f;
    struct node_opts own = {opts, proxy_opt, &o};
    int prv = node_parse_flags(&node_cmd_proxy, argc, argv, NODE_FLAG_JSON, &own, &f);
    if (prv >= 0)
        return prv;
    struct proxy_args a = o.a; /* by value: the password is read into it and wiped there */
    const char *data_dir = f.data_dir, *pwfile = o.pwfile;
    bool json = f.json, set_flags = o.set_flags;
    if (optind >= argc)
        return node_usage_error(&node_cmd_proxy, "missing subcommand (show, set, clear, test)");
    const char *sub = argv[optind++];
    struct node_admin_reply *r = NULL;
    char err[512];
    int rv;
    if (strcmp(sub, "set") == 0) {
        if (optind != argc)
            return node_usage_error(&node_cmd_proxy, "unexpected argument '%s'", argv[optind]);
        if (!set_flags)
            return node_usage_error(&node_cmd_proxy,
                                    "proxy set needs at least one setting (proxy clear drops the "
                                    "proxy)");
        if (a.user && a.user[0] == '\0' && pwfile)
            return node_usage_error(&node_cmd_proxy, "--user '' drops the password: no "
                                                     "--password-file with it");
        if (pwfile && read_password(pwfile, &a) != 0) {
            char msg[600];
            (void)shir_str_fmt(msg, sizeof msg, "cannot read a password (at most %d bytes) from %s",
                               PASSWORD_MAX, pwfile);
            return node_cli_fail("proxy set", json, SHIR_E_IO, msg);
        }
        rv = node_admin_call(data_dir, "proxy.set", pack_set, &a, NODE_WRITE_TIMEOUT_MS, &r, err,
                             sizeof err);
        shir_wipe(a.password, sizeof a.password);
        return print_reply("set", rv, r, err, json,
                           "Proxy settings saved; every node uses them from now on.");
    }
    if (set_flags)
        return node_usage_error(&node_cmd_proxy, "proxy settings flags go with 'proxy set'");
    if (strcmp(sub, "clear") == 0 && optind == argc) {
        rv = node_admin_call(data_dir, "proxy.clear", NULL, NULL, NODE_WRITE_TIMEOUT_MS, &r, err,
                             sizeof err);
        return print_reply("clear", rv, r, err, json, "Proxy cleared (mode none).");
    }
    if (strcmp(sub, "show") == 0 && optind == argc) {
        rv = node_admin_call(data_dir, "proxy.show", NULL, NULL, PROXY_TIMEOUT_MS, &r, err,
                             sizeof err);
        return print_reply("show", rv, r, err, json, NULL);
    }
    if (strcmp(sub, "test") == 0 && optind + 1 == argc) {
        a.url = argv[optind];
        rv = node_admin_call(data_dir, "proxy.test", pack_url, &a, PROXY_TEST_TIMEOUT_MS, &r, err,
                             sizeof err);
        return print_reply("test", rv, r, err, json, NULL);
    }
    return node_usage_error(&node_cmd_proxy, "bad subcommand or arguments");
}

const struct node_cmd node_cmd_proxy = {
    .name = "proxy",
    .summary = "show, set, clear or test the runtime's outbound proxy",
    .usage =
        "usage: shir proxy show [--json]\n"
        "       shir proxy set [--mode none|system|custom] [--address HOST] [--port N]\n"
        "                      [--user USER] [--password-file FILE|-] [--bypass LIST]\n"
        "                      [--bypass-local|--no-bypass-local] [--auth basic|ntlm|any]\n"
        "                      [--json]\n"
        "       shir proxy clear [--json]\n"
        "       shir proxy test URL [--json]\n"
        "(each also takes --data-dir DIR)\n"
        "\n"
        "set changes only the settings given (at least one); the others keep their value.\n"
        "--address/--port without --mode mean custom; a mode other than custom drops address,\n"
        "port, user and password; --user '' drops the user and the password. clear drops the\n"
        "proxy altogether (mode none).\n"
        "Settings are one raft entry, applied on every node at once without a restart. system\n"
        "uses the agent's http_proxy/https_proxy/no_proxy. The password is read from FILE or\n"
        "stdin (-), sealed in the replicated state, and never shown. test makes a real GET of\n"
        "URL through the configured proxy from this node and prints the status and time.\n",
    .run = proxy_run,
};
