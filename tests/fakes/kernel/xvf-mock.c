/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xvf-mock - shell access to libxvf-mock (mock.h): build a fake root,
 * snapshot it, arm faults, read counters and the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock.h"

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: xvf-mock COMMAND ROOT [ARGS]   (ROOT '-' = $XEN_VF_ROOT)\n"
        "  build ROOT [PRESET|FILE|-]   qemu (default), board, mixed, igb\n"
        "  preset NAME                  print a preset's configuration\n"
        "  snapshot ROOT                print the comparable state\n"
        "  counts ROOT                  admin=N write=N ops=N fired=N\n"
        "                               netlink=N\n"
        "  reset-counts ROOT            zero the counters, empty the log\n"
        "  log ROOT                     print the operation log\n"
        "  fault ROOT [--kind any|admin|write|netlink] --nth N\n"
        "        [--opcode X]\n"
        "        [--sub X] [--attr NAME] [--status X] [--errno E]\n"
        "        [--sticky]             arm a fault\n"
        "  clear-fault ROOT\n"
        "  vf-up ROOT PF VFN [DRIVER [NVQ NVI]]\n"
        "  pf-set ROOT PF 'key=value ...'\n"
        "  write ROOT FILE VALUE        one write() of VALUE to ROOT/FILE,\n"
        "                               e.g. sys/bus/pci/drivers_probe (a\n"
        "                               shell's echo is not intercepted)\n"
        "  destroy ROOT\n");
}

static char *read_all(FILE *f)
{
    char *buf = NULL;
    size_t len = 0, n;
    char chunk[4096];
    FILE *out = open_memstream(&buf, &len);

    if (!out)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, out);
    fclose(out);
    return buf;
}

static int print_text(char *text)
{
    if (!text) {
        fprintf(stderr, "xvf-mock: %s\n", strerror(errno));
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return 0;
}

static int check(int r, const char *what)
{
    if (r == 0)
        return 0;
    if (r > 0)
        fprintf(stderr, "xvf-mock: %s: NVMe status 0x%04x\n", what, r);
    else
        fprintf(stderr, "xvf-mock: %s: %s\n", what, strerror(-r));
    return 1;
}

static int cmd_build(const char *root, const char *src)
{
    char *text = NULL;
    FILE *f;
    int r;

    if (src && !xvf_mock_preset(src)) {
        f = strcmp(src, "-") ? fopen(src, "r") : stdin;
        if (!f) {
            fprintf(stderr, "xvf-mock: %s: %s\n", src, strerror(errno));
            return 1;
        }
        text = read_all(f);
        if (f != stdin)
            fclose(f);
        if (!text)
            return check(-ENOMEM, "build");
        src = text;
    }
    r = xvf_mock_build(root, src);
    free(text);
    return check(r, "build");
}

static int cmd_write(const char *root, const char *file, const char *val)
{
    char path[4096];
    ssize_t n;
    int fd;

    if (!root)
        root = getenv("XEN_VF_ROOT");
    if (!root) {
        fprintf(stderr, "xvf-mock: no root\n");
        return 1;
    }
    /* the interception looks at $XEN_VF_ROOT */
    setenv("XEN_VF_ROOT", root, 1);
    snprintf(path, sizeof(path), "%s/%s", root, file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "xvf-mock: %s: %s\n", path, strerror(errno));
        return 1;
    }
    n = write(fd, val, strlen(val));
    if (n < 0)
        fprintf(stderr, "xvf-mock: write %s: %s\n", path, strerror(errno));
    close(fd);
    return n < 0;
}

static int cmd_fault(const char *root, int argc, char **argv)
{
    static const struct option opts[] = {
        { "kind", required_argument, NULL, 'k' },
        { "nth", required_argument, NULL, 'n' },
        { "opcode", required_argument, NULL, 'o' },
        { "sub", required_argument, NULL, 's' },
        { "attr", required_argument, NULL, 'a' },
        { "status", required_argument, NULL, 'S' },
        { "errno", required_argument, NULL, 'e' },
        { "sticky", no_argument, NULL, 'y' },
        { NULL, 0, NULL, 0 },
    };
    struct xvf_mock_fault f;
    int c;

    xvf_mock_fault_init(&f);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            f.kind = !strcmp(optarg, "admin") ? XVF_MOCK_ADMIN :
                     !strcmp(optarg, "write") ? XVF_MOCK_WRITE :
                     !strcmp(optarg, "netlink") ? XVF_MOCK_NETLINK :
                     XVF_MOCK_ANY;
            break;
        case 'n':
            f.nth = strtoul(optarg, NULL, 0);
            break;
        case 'o':
            f.opcode = strtol(optarg, NULL, 0);
            break;
        case 's':
            f.sub = strtol(optarg, NULL, 0);
            break;
        case 'a':
            snprintf(f.attr, sizeof(f.attr), "%s", optarg);
            break;
        case 'S':
            f.status = strtoul(optarg, NULL, 0);
            break;
        case 'e':
            f.err = strtol(optarg, NULL, 0);
            break;
        case 'y':
            f.sticky = true;
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    return check(xvf_mock_set_fault(root, &f), "fault");
}

int main(int argc, char **argv)
{
    struct xvf_mock_counts n;
    const char *cmd, *root;

    if (argc < 3) {
        if (argc == 2 && (!strcmp(argv[1], "-h") ||
                          !strcmp(argv[1], "--help"))) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    cmd = argv[1];
    root = strcmp(argv[2], "-") ? argv[2] : NULL;
    if (!strcmp(cmd, "preset")) {
        if (!xvf_mock_preset(argv[2]))
            return check(-ENOENT, argv[2]);
        fputs(xvf_mock_preset(argv[2]), stdout);
        return 0;
    }
    if (!strcmp(cmd, "build"))
        return cmd_build(root, argc > 3 ? argv[3] : NULL);
    if (!strcmp(cmd, "snapshot"))
        return print_text(xvf_mock_snapshot(root));
    if (!strcmp(cmd, "log"))
        return print_text(xvf_mock_log(root));
    if (!strcmp(cmd, "counts")) {
        if (check(xvf_mock_counts(root, &n), "counts"))
            return 1;
        printf("admin=%u write=%u ops=%u fired=%u netlink=%u\n", n.admin,
               n.write, n.ops, n.fired, n.netlink);
        return 0;
    }
    if (!strcmp(cmd, "reset-counts"))
        return check(xvf_mock_reset_counts(root), cmd);
    if (!strcmp(cmd, "fault"))
        return cmd_fault(root, argc - 2, argv + 2);
    if (!strcmp(cmd, "clear-fault"))
        return check(xvf_mock_clear_fault(root), cmd);
    if (!strcmp(cmd, "destroy"))
        return check(xvf_mock_destroy(root), cmd);
    if (!strcmp(cmd, "vf-up") && argc >= 5)
        return check(xvf_mock_vf_up(root, argv[3],
                                    strtoul(argv[4], NULL, 0),
                                    argc > 5 ? argv[5] : "nvme",
                                    argc > 6 ? strtoul(argv[6], NULL, 0) : 2,
                                    argc > 7 ? strtoul(argv[7], NULL, 0) : 1),
                     cmd);
    if (!strcmp(cmd, "write") && argc == 5)
        return cmd_write(root, argv[3], argv[4]);
    if (!strcmp(cmd, "pf-set") && argc == 5)
        return check(xvf_mock_pf_set(root, argv[3], argv[4]), cmd);
    usage(stderr);
    return 2;
}
