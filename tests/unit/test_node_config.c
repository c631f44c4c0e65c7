/* node/config.c: the agent's settings layered from defaults, a config file, SHIR_* variables and
 * flags; errors name the file and line, the variable or the flag. Tables of cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/config.h"

/* A fake environment: NAME=VALUE strings, NULL-terminated. */
static const char *const *fake_env;

static const char *fake_getenv_cb(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = fake_env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static int fake_host_cb(char *out, size_t cap)
{
    return shir_str_copy(out, cap, "hostname");
}

struct layer_case {
    const char *name;
    const char *file; /* NULL: no --config */
    const char *env[6];
    struct node_config_flag flags[4];
    /* expected */
    const char *listen, *advertise, *data_dir, *node_name, *http_listen;
    enum shir_log_level level;
    bool witness;
    uint64_t min_free_mb;
};

/* clang-format off */
static const struct layer_case layer_cases[] = {
    {"defaults only", NULL, {NULL}, {{NULL, NULL}},
     "0.0.0.0:8060", "0.0.0.0:8060", "/var/lib/shir", "hostname", "", SHIR_LOG_INFO, false, 0},
    {"the file sets every key",
     "# a comment\n; another\n\nlisten = 10.0.0.1:9000\nadvertise=10.0.0.1:9000\n"
     "data_dir = /srv/shir\nnode_name = vm1\nlog_level = debug\nhttp_listen = 127.0.0.1:8061\n"
     "witness = yes\nmin_free = 128\n",
     {NULL}, {{NULL, NULL}},
     "10.0.0.1:9000", "10.0.0.1:9000", "/srv/shir", "vm1", "127.0.0.1:8061", SHIR_LOG_DEBUG, true,
     128},
    {"advertise follows the final listen when no layer sets it",
     "listen = 10.0.0.1:9000\n", {"SHIR_LISTEN=10.0.0.2:9001", NULL}, {{NULL, NULL}},
     "10.0.0.2:9001", "10.0.0.2:9001", "/var/lib/shir", "hostname", "", SHIR_LOG_INFO, false, 0},
    {"env over file, key by key",
     "listen = 10.0.0.1:9000\nnode_name = fromfile\nlog_level = warn\n",
     {"SHIR_NODE_NAME=fromenv", "SHIR_DATA_DIR=/env/dir", "SHIR_WITNESS=true", NULL},
     {{NULL, NULL}},
     "10.0.0.1:9000", "10.0.0.1:9000", "/env/dir", "fromenv", "", SHIR_LOG_WARN, true, 0},
    {"an empty variable counts as unset", "advertise = 10.0.0.9:8060\n",
     {"SHIR_ADVERTISE=", NULL}, {{NULL, NULL}},
     "0.0.0.0:8060", "10.0.0.9:8060", "/var/lib/shir", "hostname", "", SHIR_LOG_INFO, false, 0},
    {"flags over env over file",
     "listen = 10.0.0.1:9000\nadvertise = 10.0.0.1:9000\nmin_free = 10\n",
     {"SHIR_LISTEN=10.0.0.2:9000", "SHIR_ADVERTISE=10.0.0.2:9000", "SHIR_MIN_FREE=20", NULL},
     {{"advertise", "10.0.0.3:9000"}, {"data_dir", "/flag/dir"}, {"witness", "true"}},
     "10.0.0.2:9000", "10.0.0.3:9000", "/flag/dir", "hostname", "", SHIR_LOG_INFO, true, 20},
    {"a port alone binds the endpoint to loopback", "http_listen = 9160\n", {NULL},
     {{NULL, NULL}},
     "0.0.0.0:8060", "0.0.0.0:8060", "/var/lib/shir", "hostname", "127.0.0.1:9160", SHIR_LOG_INFO,
     false, 0},
    {"a false witness in the environment overrides the file", "witness = true\n",
     {"SHIR_WITNESS=off", NULL}, {{NULL, NULL}},
     "0.0.0.0:8060", "0.0.0.0:8060", "/var/lib/shir", "hostname", "", SHIR_LOG_INFO, false, 0},
};
/* clang-format on */

static void test_layers(void **state)
{
    (void)state;
    char path[] = "/tmp/shir-test-config-XXXXXX";
    for (size_t i = 0; i < sizeof layer_cases / sizeof layer_cases[0]; i++) {
        const struct layer_case *c = &layer_cases[i];
        print_message("case: %s\n", c->name);
        const char *file = NULL;
        if (c->file) {
            memcpy(path + sizeof path - 7, "XXXXXX", 6);
            int fd = mkstemp(path);
            assert_true(fd >= 0);
            assert_int_equal(write(fd, c->file, strlen(c->file)), (ssize_t)strlen(c->file));
            close(fd);
            file = path;
        }
        fake_env = c->env;
        size_t n = 0;
        while (n < 4 && c->flags[n].key)
            n++;
        struct node_agent_config cfg;
        char err[1024] = "";
        int rv = node_config_resolve(&cfg, file, fake_getenv_cb, c->flags, n, fake_host_cb, err,
                                     sizeof err);
        if (file)
            unlink(file);
        if (rv != 0)
            print_message("unexpected error: %s\n", err);
        assert_int_equal(rv, 0);
        assert_string_equal(cfg.listen, c->listen);
        assert_string_equal(cfg.advertise, c->advertise);
        assert_string_equal(cfg.data_dir, c->data_dir);
        assert_string_equal(cfg.node_name, c->node_name);
        assert_string_equal(cfg.http_listen, c->http_listen);
        assert_int_equal(cfg.log_level, c->level);
        assert_int_equal(cfg.witness, c->witness);
        assert_int_equal(cfg.min_free_bytes, c->min_free_mb << 20);
    }
}

struct error_case {
    const char *name;
    const char *file;
    const char *env[3];
    struct node_config_flag flag;
    int rv;
    const char *message; /* the exact error text (files are named "t.conf") */
};

/* clang-format off */
static const struct error_case error_cases[] = {
    {"unknown key names the file and line", "listen = 10.0.0.1:1\n\nlisten_adress = x\n", {NULL},
     {NULL, NULL}, SHIR_E_CONFIG,
     "t.conf:3: unknown key 'listen_adress' (known: listen, advertise, data_dir, node_name, "
     "log_level, http_listen, witness, min_free)"},
    {"a bad value names the file, line and key", "# x\nlisten = vm1:8060\n", {NULL},
     {NULL, NULL}, SHIR_E_CONFIG,
     "t.conf:2: listen wants a numeric address and a port (0.0.0.0:8060, 10.0.0.5:8060, "
     "[::]:8060), got 'vm1:8060'"},
    {"a line without '='", "listen = 10.0.0.1:1\nadvertise\n", {NULL}, {NULL, NULL},
     SHIR_E_CONFIG, "t.conf:2: not a 'key = value' line (a section header or a comment?)"},
    {"sections are refused", "[agent]\nlisten = 10.0.0.1:1\n", {NULL}, {NULL, NULL},
     SHIR_E_CONFIG,
     "t.conf:1: sections are not used ('[agent]'): write key = value lines only"},
    {"a section with no key after it is refused", "[main]\n", {NULL}, {NULL, NULL},
     SHIR_E_CONFIG, "t.conf:1: sections are not used ('[main]'): write key = value lines only"},
    {"a section at the end is refused", "listen = 10.0.0.1:1\n  [tail]\n", {NULL},
     {NULL, NULL}, SHIR_E_CONFIG,
     "t.conf:2: sections are not used ('[tail]'): write key = value lines only"},
    {"bad witness", "witness = maybe\n", {NULL}, {NULL, NULL}, SHIR_E_CONFIG,
     "t.conf:1: witness wants true or false, got 'maybe'"},
    {"min_free out of range", "min_free = 0\n", {NULL}, {NULL, NULL}, SHIR_E_CONFIG,
     "t.conf:1: min_free wants MiB, 1 to 1048576, got '0'"},
    {"a bad variable is named", "", {"SHIR_LOG_LEVEL=loud", NULL}, {NULL, NULL}, SHIR_E_INVAL,
     "SHIR_LOG_LEVEL: log_level wants debug, info, warn, error or off, got 'loud'"},
    {"a bad flag is named as the flag", "", {NULL}, {"node_name", "a b"}, SHIR_E_INVAL,
     "--node-name: node_name wants 1-63 of [A-Za-z0-9._-], got 'a b'"},
    {"a bad flag is an error even when the file is fine", "listen = 10.0.0.1:1\n", {NULL},
     {"http_listen", "localhost:80"}, SHIR_E_INVAL,
     "--http-listen: http_listen wants a port, or a numeric address and a port (9160, "
     "127.0.0.1:9160), got 'localhost:80'"},
    {"a port alone must be a port", "", {NULL}, {"http_listen", "99999"}, SHIR_E_INVAL,
     "--http-listen: http_listen wants a port, or a numeric address and a port (9160, "
     "127.0.0.1:9160), got '99999'"},
};
/* clang-format on */

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const struct error_case *c = &error_cases[i];
        print_message("case: %s\n", c->name);
        struct node_agent_config cfg;
        node_config_defaults(&cfg);
        char err[1024] = "";
        int rv = node_config_load_text(&cfg, "t.conf", c->file, err, sizeof err);
        if (rv == 0) {
            fake_env = c->env;
            rv = node_config_load_env(&cfg, fake_getenv_cb, err, sizeof err);
        }
        if (rv == 0 && c->flag.key)
            rv = node_config_set(&cfg, c->flag.key, c->flag.value, "--node-name", err, sizeof err);
        /* node_config_resolve names a flag by its flag; check that path too for flags. */
        if (c->flag.key) {
            struct node_config_flag f = c->flag;
            fake_env = NULL;
            char err2[1024] = "";
            assert_int_not_equal(node_config_resolve(&cfg, NULL, fake_getenv_cb, &f, 1,
                                                     fake_host_cb, err2, sizeof err2),
                                 0);
            assert_string_equal(err2, c->message);
            continue;
        }
        assert_int_equal(rv, c->rv);
        assert_string_equal(err, c->message);
    }
}

static void test_long_line_and_missing_file(void **state)
{
    (void)state;
    struct node_agent_config cfg;
    node_config_defaults(&cfg);
    char text[600], err[1024];
    memset(text, 'a', sizeof text);
    memcpy(text, "data_dir = /", 12);
    memcpy(text + sizeof text - 2, "\n", 2);
    assert_int_equal(node_config_load_text(&cfg, "t.conf", text, err, sizeof err), SHIR_E_CONFIG);
    assert_non_null(strstr(err, "t.conf:1: line longer than"));
    assert_string_equal(cfg.data_dir, "/var/lib/shir"); /* nothing half-applied */

    assert_int_equal(node_config_load_file(&cfg, "/nonexistent/shir.conf", err, sizeof err),
                     -2 /* -ENOENT */);
    assert_string_equal(err, "/nonexistent/shir.conf: cannot read the config file: No such file "
                             "or directory");
    /* The environment name of each setting, for the docs. */
    assert_string_equal(node_config_env_name("min_free"), "SHIR_MIN_FREE");
    assert_null(node_config_env_name("nope"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_line_and_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
