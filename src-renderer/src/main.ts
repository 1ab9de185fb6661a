import { mount } from 'svelte';
import App from './App.svelte';
import { ApiFailure, explain } from './lib/api.ts';
import { notify } from './lib/state.svelte.ts';
import './styles.css';

/*
 * A failure no screen caught still reaches the user in words, once, and never as a silent console error. Heirloom
 * not answering is already said by the banner at the top, so it is not repeated for every request that met it.
 */
window.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  if (event.reason instanceof ApiFailure && event.reason.code === 'OFFLINE') return;
  notify('error', explain(event.reason));
});

mount(App, { target: document.getElementById('app')! });
