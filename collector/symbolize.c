/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call-site symbolization with libdwfl (symbolize.h).  Runs in the report
 * writer and in roar-report, never while events arrive.  A module is
 * reported to its own offline Dwfl, so that modules of different
 * processes never overlap; the wire's file offset becomes an ELF address
 * through the module's PT_LOAD headers, which holds for executables and
 * shared objects alike.  Without libdw, nothing is known but the module
 * and offset the caller already has.
 *
 * Function names come from the module's symbol tables, or from its
 * detached debug file (/usr/lib/debug, by build id or .gnu_debuglink).
 * Source lines come only from DWARF the module carries itself (a -g
 * build): reading a detached file's line tables means decompressing its
 * .debug_info, about 40 ms for libc's per report, for frames (libc's
 * start-up, mostly) that say little.  No debuginfod server is asked:
 * DEBUGINFOD_URLS is set aside while a symbolizer lives.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#ifdef ROAR_HAVE_LIBDW
#include <elfutils/libdwfl.h>
#include <gelf.h>
#endif

#include "symbolize.h"
#include "util.h"

struct sym_result {
	struct roar_symbol sym;
	bool known;
};

struct sym_module {
	char *path;
#ifdef ROAR_HAVE_LIBDW
	Dwfl *dwfl;
	Dwfl_Module *mod; /* NULL: could not be opened */
	bool own_dwarf;   /* the file itself has .debug_info */
#endif
	struct roar_map results; /* offset -> struct sym_result * */
	struct sym_module *next;
};

struct roar_symbolizer {
	struct roar_map modules; /* path hash -> struct sym_module * chain */
	char *debuginfod_urls;   /* set aside, put back when freed */
};

struct roar_symbolizer *
roar_symbolizer_new(void)
{
	struct roar_symbolizer *s = roar_xcalloc(1, sizeof(*s));
	const char *urls = getenv("DEBUGINFOD_URLS");

	roar_map_init(&s->modules);
	if (urls) {
		s->debuginfod_urls = roar_xstrdup(urls);
		unsetenv("DEBUGINFOD_URLS");
	}
	return s;
}

static void
free_module(struct sym_module *mod)
{
	for (size_t i = 0; i < mod->results.cap; i++) {
		struct sym_result *r;

		if (!mod->results.used[i])
			continue;
		r = mod->results.vals[i];
		free((char *)r->sym.function);
		free((char *)r->sym.file);
		free(r);
	}
	roar_map_free(&mod->results);
#ifdef ROAR_HAVE_LIBDW
	if (mod->dwfl)
		dwfl_end(mod->dwfl);
#endif
	free(mod->path);
	free(mod);
}

void
roar_symbolizer_free(struct roar_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->modules.cap; i++) {
		struct sym_module *mod, *next;

		if (!s->modules.used[i])
			continue;
		for (mod = s->modules.vals[i]; mod; mod = next) {
			next = mod->next;
			free_module(mod);
		}
	}
	roar_map_free(&s->modules);
	if (s->debuginfod_urls) {
		setenv("DEBUGINFOD_URLS", s->debuginfod_urls, 1);
		free(s->debuginfod_urls);
	}
	free(s);
}

#ifdef ROAR_HAVE_LIBDW
static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static bool
has_own_dwarf(Dwfl_Module *m)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m, &bias);
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".debug_info") ||
			     !strcmp(name, ".zdebug_info")))
			return true;
	}
	return false;
}

static void
open_module(struct sym_module *mod)
{
	/* Names the kernel gives mappings that are no file ("[vdso]"), and
	 * files gone since the run, simply fail here. */
	if (mod->path[0] != '/')
		return;
	mod->dwfl = dwfl_begin(&offline_callbacks);
	if (!mod->dwfl)
		return;
	mod->mod = dwfl_report_offline(mod->dwfl, mod->path, mod->path, -1);
	dwfl_report_end(mod->dwfl, NULL, NULL);
	if (mod->mod)
		mod->own_dwarf = has_own_dwarf(mod->mod);
}

/* The ELF address (before the Dwfl's bias) of file offset off. */
static bool
offset_to_vaddr(Elf *elf, uint64_t off, uint64_t *vaddr)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (off >= ph.p_offset && off < ph.p_offset + ph.p_filesz) {
			*vaddr = off - ph.p_offset + ph.p_vaddr;
			return true;
		}
	}
	return false;
}

/*
 * The source line of ELF address vaddr by walking the compile units,
 * for modules without .debug_aranges (clang emits none unless asked
 * with -gdwarf-aranges), where dwfl_module_getsrc finds no unit.
 */
static const char *
src_by_units(struct sym_module *mod, GElf_Addr at, int *lineno)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;

	while ((cu = dwfl_module_nextcu(mod->mod, cu, &bias))) {
		Dwarf_Line *l;

		if (dwarf_haspc(cu, at - bias) <= 0)
			continue;
		l = dwarf_getsrc_die(cu, at - bias);
		if (l && dwarf_lineno(l, lineno) == 0)
			return dwarf_linesrc(l, NULL, NULL);
		return NULL;
	}
	return NULL;
}

static void
lookup(struct sym_module *mod, uint64_t off, struct sym_result *r)
{
	GElf_Addr bias = 0;
	Elf *elf;
	uint64_t vaddr;
	const char *name, *src;
	Dwfl_Line *line;
	int lineno = 0;

	if (!mod->mod || !(elf = dwfl_module_getelf(mod->mod, &bias)) ||
	    !offset_to_vaddr(elf, off, &vaddr))
		return;
	r->known = true;
	r->sym.addr = vaddr;
	name = dwfl_module_addrname(mod->mod, vaddr + bias);
	if (name)
		r->sym.function = roar_xstrdup(name);
	line = mod->own_dwarf ? dwfl_module_getsrc(mod->mod, vaddr + bias)
			      : NULL;
	src = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL)
		   : NULL;
	if (!src && mod->own_dwarf)
		src = src_by_units(mod, vaddr + bias, &lineno);
	if (src && lineno > 0) {
		r->sym.file = roar_xstrdup(src);
		r->sym.line = lineno;
	}
}
#endif

static struct sym_module *
get_module(struct roar_symbolizer *s, const char *path)
{
	uint64_t h = roar_hash_bytes(path, strlen(path));
	struct sym_module *head = roar_map_get(&s->modules, h), *mod;

	for (mod = head; mod; mod = mod->next)
		if (!strcmp(mod->path, path))
			return mod;
	mod = roar_xcalloc(1, sizeof(*mod));
	mod->path = roar_xstrdup(path);
	roar_map_init(&mod->results);
#ifdef ROAR_HAVE_LIBDW
	open_module(mod);
#endif
	mod->next = head;
	roar_map_put(&s->modules, h, mod);
	return mod;
}

bool
roar_symbolize(struct roar_symbolizer *s, const char *module, uint64_t off,
	       struct roar_symbol *out)
{
	struct sym_module *mod;
	struct sym_result *r;

	memset(out, 0, sizeof(*out));
	if (!s || !module || !*module)
		return false;
	mod = get_module(s, module);
	r = roar_map_get(&mod->results, off);
	if (!r) {
		r = roar_xcalloc(1, sizeof(*r));
#ifdef ROAR_HAVE_LIBDW
		lookup(mod, off, r);
#endif
		roar_map_put(&mod->results, off, r);
	}
	*out = r->sym;
	return r->known;
}
