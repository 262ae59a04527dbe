//! The `#[action]` attribute of `fusio-sdk`: turns one function into the
//! `handler` export of the `fusio:action` world.

use proc_macro::TokenStream;
use quote::quote;
use syn::{ItemFn, parse_macro_input};

/// Marks the function that answers every request of this component.
///
/// The function takes a `fusio_sdk::Request` and returns
/// `Result<fusio_sdk::Response, fusio_sdk::Error>`; a component has exactly one.
///
/// ```text
/// #[fusio_sdk::action]
/// fn handle(req: fusio_sdk::Request) -> Result<fusio_sdk::Response, fusio_sdk::Error> {
///     Ok(fusio_sdk::Response::text(200, "hi"))
/// }
/// ```
#[proc_macro_attribute]
pub fn action(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[action] takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let function = parse_macro_input!(item as ItemFn);
    let name = &function.sig.ident;
    quote! {
        #function

        #[doc(hidden)]
        struct __FusioAction;

        impl ::fusio_sdk::__private::Guest for __FusioAction {
            fn handle(
                request: ::fusio_sdk::__private::RawRequest,
            ) -> ::core::result::Result<
                ::fusio_sdk::__private::RawResponse,
                ::fusio_sdk::__private::RawError,
            > {
                ::fusio_sdk::__private::dispatch(request, #name)
            }
        }

        ::fusio_sdk::bindings::__export_action!(__FusioAction);
    }
    .into()
}
