#include <stdio.h>
#include <ffi.h>
extern void (*plugin_hook)(int argc, char **argv);
static double mix(int a, double b, long c) { return a * b + c; }
static void run(int argc, char **argv)
{
	ffi_cif cif;
	ffi_type *args[3] = { &ffi_type_sint, &ffi_type_double, &ffi_type_slong };
	int a = 6;
	double b = 1.5, r = 0;
	long c = 100;
	void *vals[3] = { &a, &b, &c };

	if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 3, &ffi_type_double, args) != FFI_OK) {
		printf("ffi: prep failed\n");
		return;
	}
	ffi_call(&cif, FFI_FN(mix), &r, vals);
	printf("ffi: mix(6, 1.5, 100) = %.2f\n", r);
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }
