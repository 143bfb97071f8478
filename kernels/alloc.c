/* The allocator: boundary-tag blocks with segregated free lists over a bump pointer.
 *
 * Tensors are freed by the host when Python drops them, so a training loop allocates
 * and frees the same sizes over and over: exact-size bins make that a list pop, and
 * coalescing with neighbours (and with the top of the heap) keeps other patterns from
 * fragmenting. Linear memory grows on demand up to the module's maximum (2 GiB); when
 * it cannot, wt_malloc returns 0 and the host raises ResourceExhaustedError.
 *
 * Block: a 16-byte header {size | flags, magic, -, -} then the payload (16-aligned).
 * A free block also keeps its list links in the payload and its size in its last 4
 * bytes, so the block after it can find its start.
 */
#include "webtensor.h"

#define HDR 16u
#define MIN_BLOCK 32u
#define USED 1u
#define PREV_USED 2u
#define MAGIC_USED 0x574e5355u  /* "USNW" */
#define MAGIC_FREE 0x45455246u  /* "FREE" */
#define SMALL_LIMIT 2048u
#define NBINS (SMALL_LIMIT / 16 + 21 * 8)
#define PAGE 65536u

typedef struct Block {
    uint32_t size_flags, magic, pad0, pad1;
    struct Block *next, *prev;  /* only while free */
} Block;

extern unsigned char __heap_base;
int32_t wt_params[1024];
int64_t wt_err_value;

static uintptr_t heap_start, heap_top;
static Block *bins[NBINS];
static uint32_t bin_bits[(NBINS + 31) / 32];
static uint32_t used_bytes, used_blocks;

const int dt_size[NDT] = {2, 4, 8, 4, 8, 1, 4, 1};

INLINE uint32_t bsize(const Block *b) { return b->size_flags & ~15u; }
INLINE Block *after(Block *b) { return (Block *)((uintptr_t)b + bsize(b)); }

static uint32_t bin_of(uint32_t size) {
    if (size < SMALL_LIMIT) return size >> 4;
    uint32_t e = 31 - __builtin_clz(size);
    return SMALL_LIMIT / 16 + (e - 11) * 8 + ((size >> (e - 3)) & 7);
}

static void bin_insert(Block *b) {
    uint32_t i = bin_of(bsize(b));
    b->next = bins[i];
    b->prev = 0;
    if (bins[i]) bins[i]->prev = b;
    bins[i] = b;
    bin_bits[i >> 5] |= 1u << (i & 31);
}

static void bin_remove(Block *b) {
    uint32_t i = bin_of(bsize(b));
    if (b->prev) b->prev->next = b->next;
    else bins[i] = b->next;
    if (b->next) b->next->prev = b->prev;
    if (!bins[i]) bin_bits[i >> 5] &= ~(1u << (i & 31));
}

static void set_free(Block *b, uint32_t size, uint32_t prev_used) {
    b->size_flags = size | prev_used;
    b->magic = MAGIC_FREE;
    *(uint32_t *)((uintptr_t)b + size - 4) = size;
    Block *n = after(b);
    if ((uintptr_t)n < heap_top) n->size_flags &= ~PREV_USED;
    bin_insert(b);
}

static Block *find_fit(uint32_t need) {
    uint32_t i = bin_of(need);
    if (need >= SMALL_LIMIT) {  /* log-spaced bin: first fit within it */
        for (Block *b = bins[i]; b; b = b->next)
            if (bsize(b) >= need) return b;
        i++;
    }
    for (uint32_t w = i >> 5; w < sizeof bin_bits / 4; w++) {
        uint32_t bits = bin_bits[w];
        if (w == i >> 5) bits &= ~0u << (i & 31);
        if (bits) return bins[w * 32 + __builtin_ctz(bits)];
    }
    return 0;
}

static int grow_to(uintptr_t end) {
    uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) * PAGE;
    if (end <= have) return 1;
    uintptr_t pages = (end - have + PAGE - 1) / PAGE;
    uintptr_t extra = have / PAGE / 8;  /* grow by >= 1/8 to amortise, if the limit allows */
    if (__builtin_wasm_memory_grow(0, pages + extra) != (size_t)-1) return 1;
    return __builtin_wasm_memory_grow(0, pages) != (size_t)-1;
}

void *wt_malloc(size_t n) {
    if (!heap_start) heap_start = heap_top = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
    if (n > 0x7fff0000u) return 0;
    uint32_t need = ((uint32_t)n + HDR + 15) & ~15u;
    if (need < MIN_BLOCK) need = MIN_BLOCK;
    Block *b = find_fit(need);
    if (b) {
        bin_remove(b);
        uint32_t size = bsize(b), prev_used = b->size_flags & PREV_USED;
        if (size - need >= MIN_BLOCK) {
            Block *rest = (Block *)((uintptr_t)b + need);
            set_free(rest, size - need, PREV_USED);
            size = need;
        } else {
            Block *nb = after(b);
            if ((uintptr_t)nb < heap_top) nb->size_flags |= PREV_USED;
        }
        b->size_flags = size | USED | prev_used;
    } else {
        if (heap_top + need < heap_top || !grow_to(heap_top + need)) return 0;
        b = (Block *)heap_top;
        heap_top += need;
        b->size_flags = need | USED | PREV_USED;  /* free blocks never touch the top */
    }
    b->magic = MAGIC_USED;
    used_bytes += bsize(b);
    used_blocks++;
    return (void *)((uintptr_t)b + HDR);
}

void wt_free(void *p) {
    if (!p) return;
    Block *b = (Block *)((uintptr_t)p - HDR);
    if (((uintptr_t)p & 15) || (uintptr_t)b < heap_start || (uintptr_t)p >= heap_top ||
        b->magic != MAGIC_USED || !(b->size_flags & USED))
        __builtin_trap();  /* not a live block: a host bug, never silently ignored */
    uint32_t size = bsize(b), prev_used = b->size_flags & PREV_USED;
    used_bytes -= size;
    used_blocks--;
    b->magic = MAGIC_FREE;
    if (!prev_used) {
        Block *prev = (Block *)((uintptr_t)b - *(uint32_t *)((uintptr_t)b - 4));
        bin_remove(prev);
        size += bsize(prev);
        prev_used = prev->size_flags & PREV_USED;
        b = prev;
    }
    Block *n = (Block *)((uintptr_t)b + size);
    if ((uintptr_t)n == heap_top) {  /* give the space back to the top */
        heap_top = (uintptr_t)b;
        return;
    }
    if (!(n->size_flags & USED)) {
        bin_remove(n);
        size += bsize(n);
        if ((uintptr_t)b + size == heap_top) {
            heap_top = (uintptr_t)b;
            return;
        }
    }
    set_free(b, size, prev_used);
}

/* -- exports for the host ---------------------------------------------------------- */
void *EXPORT(wt_alloc)(int32_t n) { return wt_malloc((uint32_t)n); }
void EXPORT(wt_release)(void *p) { wt_free(p); }
/* Frees the n blocks whose addresses the host wrote to the release list: one call for
 * many tensors. A list of its own, so a flush never clobbers an op's params. */
static int32_t release_list[256];
int32_t *EXPORT(wt_release_list)(void) { return release_list; }
void EXPORT(wt_release_many)(int32_t n) {
    for (int32_t i = 0; i < n && i < 256; i++) wt_free((void *)(uintptr_t)release_list[i]);
}
int32_t *EXPORT(wt_params_ptr)(void) { return wt_params; }
int32_t EXPORT(wt_err_lo)(void) { return (int32_t)wt_err_value; }
int32_t EXPORT(wt_err_hi)(void) { return (int32_t)(wt_err_value >> 32); }
/* stat 0: bytes in live blocks, 1: live blocks, 2: heap extent, 3: linear memory size */
int32_t EXPORT(wt_heap_stat)(int32_t which) {
    switch (which) {
        case 0: return (int32_t)used_bytes;
        case 1: return (int32_t)used_blocks;
        case 2: return (int32_t)(heap_top - heap_start);
        default: return (int32_t)(__builtin_wasm_memory_size(0) * PAGE);
    }
}

/* libc pieces the compiler may call: with bulk memory these are memory.copy/fill */
void *memcpy(void *dst, const void *src, size_t n) { return __builtin_memcpy(dst, src, n); }
void *memmove(void *dst, const void *src, size_t n) { return __builtin_memmove(dst, src, n); }
void *memset(void *dst, int c, size_t n) { return __builtin_memset(dst, c, n); }
