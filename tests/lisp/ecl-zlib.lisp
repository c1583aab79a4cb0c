;; ECL: zlib through ffi:def-function with :module :default, which looks the
;; names up in the running program (ECL itself links libgmp.so, so GMP
;; would prove nothing here).
(ffi:def-function ("zlibVersion" zlib-version) () :returning :cstring :module :default)
(ffi:def-function ("crc32" zcrc32) ((crc :unsigned-long) (buf :cstring) (len :unsigned-int))
  :returning :unsigned-long :module :default)
(format t "zlib ~a crc ~a~%" (zlib-version) (zcrc32 0 "hello" 5))
